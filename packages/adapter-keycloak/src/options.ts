import type { AdapterModule } from '@dcr-bridge/core';
import { createKeycloakAdapter, type KeycloakAdapterOptions } from './adapter.js';

/** `DCR_BRIDGE_ADAPTER=keycloak`: clients through Keycloak's admin REST API. */
export const dcrBridgeAdapter: AdapterModule<Omit<KeycloakAdapterOptions, 'logger' | 'dispatcher' | 'journal'>> = {
  id: 'keycloak',
  readOptions: (settings) => ({
    baseUrl: settings.url('KEYCLOAK_URL', { required: true, allowHttp: true }) ?? '',
    realm: settings.string('KEYCLOAK_REALM', { required: true }) ?? '',
    clientId: settings.string('KEYCLOAK_CLIENT_ID', { required: true }) ?? '',
    clientSecret: settings.secret('KEYCLOAK_CLIENT_SECRET', { required: true }) ?? '',
    tokenRealm: settings.string('KEYCLOAK_TOKEN_REALM'),
    timeoutMs: settings.integer('KEYCLOAK_TIMEOUT_MS', { default: 30_000, min: 100, max: 120_000 }),
  }),
  create: async (options, context) => createKeycloakAdapter({ ...options, logger: context.logger, journal: await context.openJournal() }),
};
