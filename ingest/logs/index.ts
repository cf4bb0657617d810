export { logRoutes } from './routes.ts';
export type { LogEntry } from './schemas.ts';
