import type { AdapterModule } from '@dcr-bridge/core';
import { create__PASCAL__Adapter, type __PASCAL__AdapterOptions } from './adapter.js';

/** How the server configures this adapter: `DCR_BRIDGE_ADAPTER=__ID__` and the settings below. */
export const dcrBridgeAdapter: AdapterModule<Omit<__PASCAL__AdapterOptions, 'logger' | 'dispatcher' | 'journal'>> = {
  id: '__ID__',
  readOptions: (settings) => ({
    baseUrl: settings.url('__ENV___URL', { required: true }) ?? '',
    apiToken: settings.secret('__ENV___API_TOKEN', { required: true }) ?? '',
    timeoutMs: settings.integer('__ENV___TIMEOUT_MS', { default: 30_000, min: 100, max: 120_000 }),
  }),
  create: async (options, context) => create__PASCAL__Adapter({ ...options, logger: context.logger, journal: await context.openJournal() }),
};
