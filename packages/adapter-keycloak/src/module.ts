import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createKeycloakAdapter, type KeycloakAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The adapter as the server loads it: clients through Keycloak's admin REST API. */
export const dcrBridgeAdapter: AdapterModule<Omit<KeycloakAdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    return {
      baseUrl: settings.url('URL', { required: true }) ?? '',
      realm: settings.string('REALM', { required: true }) ?? '',
      clientId: settings.string('CLIENT_ID', { required: true }) ?? '',
      clientSecret: settings.secret('CLIENT_SECRET', { required: true }) ?? '',
      tokenRealm: settings.string('TOKEN_REALM'),
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => createKeycloakAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
