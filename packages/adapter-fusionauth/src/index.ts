export { createFusionauthAdapter, type FusionauthAdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
