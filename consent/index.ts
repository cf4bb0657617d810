export { ConsentGate, type GateDecision, type GatedKind, loadGatePolicy, openGatePolicy } from './gate.ts';
export { ConsentConfigError, loadPurposes, type Purpose } from './purposes.ts';
export { consentRouters } from './routes.ts';
