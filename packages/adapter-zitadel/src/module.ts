import { type AdapterModule, defineAdapterSettings, setting, settingNamesOf, type SettingsOptions } from '@dcr-bridge/core';
import { createZitadelAdapter, type ZitadelAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The settings, all named `ZITADEL_…`: what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    baseUrl: setting.url('URL', {
      required: true,
      doc: 'the instance, e.g. `https://my-instance.zitadel.cloud` (its APIs and `/oauth/v2/token`)',
    }),
    projectId: setting.text('PROJECT_ID', { required: true, doc: 'the project whose OIDC applications the bridge creates' }),
    organizationId: setting.text('ORGANIZATION_ID', {
      required: true,
      doc: 'the organization whose service users the bridge creates (client_credentials)',
    }),
    apiToken: setting.secret('API_TOKEN', {
      required: true,
      doc: "a personal access token (PAT) of the bridge's service user, sent as `Authorization: Bearer`",
    }),
  },
});

/** The adapter as the server loads it: its settings and its factory. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<ZitadelAdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) =>
    createZitadelAdapter({
      ...options,
      settingNames: settingNamesOf(settings),
      logger: context.logger,
      ...(await context.openLifecycle()),
    }),
};
