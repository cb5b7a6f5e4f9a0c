import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createFusionauthAdapter, type FusionauthAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The adapter as the server loads it: its settings, all named `FUSIONAUTH_…`, and its factory. */
export const dcrBridgeAdapter: AdapterModule<Omit<FusionauthAdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    const tenantId = settings.string('TENANT_ID');
    const targetEntityId = settings.string('TARGET_ENTITY_ID');
    return {
      baseUrl: settings.url('URL', { required: true }) ?? '',
      apiKey: settings.secret('API_KEY', { required: true }) ?? '',
      entityTypeId: settings.string('ENTITY_TYPE_ID', { required: true }) ?? '',
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(targetEntityId === undefined ? {} : { targetEntityId }),
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => createFusionauthAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
