export { loadConfig, type ConfigResult, type ServerConfig } from './config.js';
export { generateApiKey } from '@dcr-bridge/core/http';
export { KNOWN_ADAPTERS, loadAdapterModule, type AdapterLookup } from './registry.js';
export { startServer, type RunningServer, type StartOptions } from './server.js';
export { devModeBanner } from './banner.js';
export { main } from './cli/main.js';
