export { createFaroApp, listFaroApps, revokeFaroApp } from './apps.ts';
export { faroRoutes } from './routes.ts';
