export { DATA_MAP, entryOfTable, INTERNAL_TABLE, mappedCategories } from './data-map.ts';
export { loadRetentionPolicies, RetentionConfigError, type RetentionPolicy } from './policies.ts';
export { processErasureQueue } from './privacy-requests.ts';
export { createRetention, type Retention, type RetentionOptions } from './retention.ts';
export { privacyRequestRoutes, retentionRoutes } from './routes.ts';
