export { createPingFederateAdapter, type PingFederateAdapterOptions, type PingFederateAdminAuth } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
