export { createKeycloakAdapter, type KeycloakAdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
