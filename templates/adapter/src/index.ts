export { create__PASCAL__Adapter, type __PASCAL__AdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
