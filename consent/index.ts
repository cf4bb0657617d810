export { type ConsentMetrics, createConsentMetrics } from './consent-metrics.ts';
export {
  ConsentGate,
  loadGatePolicy,
  openGatePolicy,
} from './gate.ts';
export { verifyConsentChain } from './ledger.ts';
export { loadPurposes, type Purpose } from './purposes.ts';
export { subjectOfReference } from './reference.ts';
export { consentRoutes, subjectConsentRoutes } from './routes.ts';
export { announceConsentChange, startConsentSync } from './sync.ts';
export { DecodedTcStringCache } from './tcf.ts';
