import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createZitadelAdapter, type ZitadelAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The adapter as the server loads it: its settings, all named `ZITADEL_…`, and its factory. */
export const dcrBridgeAdapter: AdapterModule<Omit<ZitadelAdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    return {
      baseUrl: settings.url('URL', { required: true }) ?? '',
      projectId: settings.string('PROJECT_ID', { required: true }) ?? '',
      organizationId: settings.string('ORGANIZATION_ID', { required: true }) ?? '',
      apiToken: settings.secret('API_TOKEN', { required: true }) ?? '',
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => createZitadelAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
