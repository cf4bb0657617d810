export {
  ConsentGate,
  type GateAction,
  type GateDecision,
  type GatedKind,
  type GatePolicy,
  type GateReason,
  type KindRule,
  loadGatePolicy,
  openGatePolicy,
} from './gate.ts';
export { verifyConsentChain } from './ledger.ts';
export { ConsentConfigError, loadPurposes, type Purpose } from './purposes.ts';
export { subjectOfReference } from './reference.ts';
export { consentRouters } from './routes.ts';
export { DecodedTcStringCache } from './tcf.ts';
