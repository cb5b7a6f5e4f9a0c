import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { create__PASCAL__Adapter, type __PASCAL__AdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The adapter as the server loads it: its settings, all named `__ENV___…`, and its factory. */
export const dcrBridgeAdapter: AdapterModule<Omit<__PASCAL__AdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    return {
      baseUrl: settings.url('URL', { required: true }) ?? '',
      apiToken: settings.secret('API_TOKEN', { required: true }) ?? '',
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => create__PASCAL__Adapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
