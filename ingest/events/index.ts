export { affiliateRoutes, eventRoutes, payoutRoutes } from './routes.ts';
