import { type AdapterModule, defineAdapterSettings, setting, settingNamesOf, type SettingsOptions } from '@dcr-bridge/core';
import { createFusionauthAdapter, type FusionauthAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The settings, all named `FUSIONAUTH_…`: what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    baseUrl: setting.url('URL', {
      required: true,
      doc: "FusionAuth's base URL (the API is under `/api`, the token endpoint is `/oauth2/token`)",
    }),
    apiKey: setting.secret('API_KEY', {
      required: true,
      doc: 'the API key the bridge calls FusionAuth with, sent as the `Authorization` header as is [auth] (see IdP setup)',
    }),
    entityTypeId: setting.text('ENTITY_TYPE_ID', { required: true, doc: 'the Entity Type of the entities the bridge creates' }),
    tenantId: setting.text('TENANT_ID', {
      doc: 'sent as `X-FusionAuth-TenantId`; required by FusionAuth once it has more than one tenant, unless the key is tenant-locked [entities]',
    }),
    targetEntityId: setting.text('TARGET_ENTITY_ID', {
      doc: 'the entity standing for your APIs: every client gets a grant on it, with its Konnect scopes as permissions. Without it, registrations with scopes are refused (400 `invalid_scope`) and no grant is made',
    }),
  },
});

/** The adapter as the server loads it: its settings and its factory. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<FusionauthAdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) =>
    createFusionauthAdapter({
      ...options,
      settingNames: settingNamesOf(settings),
      logger: context.logger,
      ...(await context.openLifecycle()),
    }),
};
