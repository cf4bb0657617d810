export type { SubjectKeys } from './data-map.ts';
export type { ExternalStore } from './privacy-requests.ts';
export { createRetention, type Retention } from './retention.ts';
export { privacyRequestRoutes, retentionRoutes } from './routes.ts';
