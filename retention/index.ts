export { createRetention, type Retention } from './retention.ts';
export { privacyRequestRoutes, retentionRoutes } from './routes.ts';
