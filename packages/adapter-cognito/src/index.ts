export { createCognitoAdapter, type CognitoAdapterOptions } from './adapter.js';
export { MIXED_FLOW_POLICIES, type MixedFlowPolicy } from './mapping.js';
export { dcrBridgeAdapter } from './module.js';
