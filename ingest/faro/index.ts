export { createFaroApp, type FaroApp, listFaroApps, revokeFaroApp } from './apps.ts';
export { faroRoutes } from './routes.ts';
