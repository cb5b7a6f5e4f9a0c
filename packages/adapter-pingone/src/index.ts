export { createPingOneAdapter, type PingOneAdapterOptions } from './adapter.js';
export { REGIONS, type PingOneRegion } from './application.js';
export { dcrBridgeAdapter } from './options.js';
