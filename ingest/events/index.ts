export { affiliateRoutes } from './routes.ts';
export type { Affiliate, AffiliateEvent, PayoutRequest } from './schemas.ts';
