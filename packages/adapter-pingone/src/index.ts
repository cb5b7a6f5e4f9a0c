export { createPingOneAdapter, type PingOneAdapterOptions } from './adapter.js';
export { REGIONS, type PingOneRegion } from './mapping.js';
export { dcrBridgeAdapter } from './module.js';
