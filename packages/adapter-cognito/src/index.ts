export { createCognitoAdapter, type CognitoAdapterOptions } from './adapter.js';
export { MIXED_FLOW_POLICIES, type MixedFlowPolicy } from './app-client.js';
export { dcrBridgeAdapter } from './options.js';
