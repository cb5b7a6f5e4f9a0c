import { type AdapterModule, defineAdapterSettings, setting, settingNamesOf, type SettingsOptions } from '@dcr-bridge/core';
import { createPingOneAdapter, type PingOneAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';
import { REGIONS } from './mapping.js';

/** The settings, all named `PINGONE_…`: what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    environmentId: setting.text('ENVIRONMENT_ID', { required: true, doc: 'the environment where applications are created' }),
    region: setting.oneOf('REGION', REGIONS, {
      default: 'com',
      doc: 'picks `https://api.pingone.{region}/v1` and `https://auth.pingone.{region}`',
    }),
    apiUrl: setting.url('API_URL', {
      defaultText: 'from the region',
      doc: 'the API host, explicitly (with `PINGONE_AUTH_URL`), e.g. for a custom domain',
    }),
    authUrl: setting.url('AUTH_URL', { defaultText: 'from the region', doc: 'the auth host, explicitly (with `PINGONE_API_URL`)' }),
    clientId: setting.text('CLIENT_ID', { required: true, doc: "the bridge's worker application" }),
    clientSecret: setting.secret('CLIENT_SECRET', { required: true, doc: "the worker application's secret" }),
  },
  check: (_values, { isSet }) =>
    isSet('apiUrl') === isSet('authUrl') ? [] : ['PINGONE_API_URL and PINGONE_AUTH_URL go together (or set PINGONE_REGION).'],
});

/** The adapter as the server loads it: OIDC applications through the PingOne Platform API. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<PingOneAdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) =>
    createPingOneAdapter({
      ...options,
      settingNames: settingNamesOf(settings),
      logger: context.logger,
      ...(await context.openLifecycle()),
    }),
};
