import { type AdapterModule, defineAdapterSettings, setting, settingNamesOf, type SettingsOptions } from '@dcr-bridge/core';
import { createKeycloakAdapter, type KeycloakAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The settings, all named `KEYCLOAK_…`: what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    baseUrl: setting.url('URL', {
      required: true,
      doc: 'server base URL; include the `/auth` prefix of older servers (`https://sso.example.com/auth`)',
    }),
    realm: setting.text('REALM', { required: true, doc: 'the realm where clients are created' }),
    clientId: setting.text('CLIENT_ID', { required: true, doc: "the bridge's confidential client (see IdP setup)" }),
    clientSecret: setting.secret('CLIENT_SECRET', { required: true, doc: 'its secret' }),
    tokenRealm: setting.text('TOKEN_REALM', {
      defaultText: '`KEYCLOAK_REALM`',
      doc: "the realm of the bridge's client, when it is another one (e.g. `master`)",
    }),
  },
});

/** The adapter as the server loads it: clients through Keycloak's admin REST API. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<KeycloakAdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) =>
    createKeycloakAdapter({
      ...options,
      settingNames: settingNamesOf(settings),
      logger: context.logger,
      ...(await context.openLifecycle()),
    }),
};
