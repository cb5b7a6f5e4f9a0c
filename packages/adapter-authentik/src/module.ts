import { defineAdapterSettings, setting, type AdapterModule, type SettingsOptions } from '@dcr-bridge/core';
import { createAuthentikAdapter, type AuthentikAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** A flow's UUID, as authentik's API takes it (Flows and Stages → Flows, or GET /api/v3/flows/instances/{slug}/ → pk). */
const FLOW = {
  test: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  expected: 'the UUID of a flow (authentik: Flows and Stages → Flows, or GET /api/v3/flows/instances/{slug}/ → pk)',
};

/** The settings, all named `AUTHENTIK_…`: what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    baseUrl: setting.url('URL', {
      required: true,
      doc: "authentik's base URL, e.g. `https://authentik.example.com` (the API is `<URL>/api/v3`, the token endpoint `<URL>/application/o/token/`)",
    }),
    apiToken: setting.secret('API_TOKEN', {
      required: true,
      doc: "an API token (intent `API`) of the bridge's service account (see IdP setup)",
    }),
    authorizationFlow: setting.text('AUTHORIZATION_FLOW', {
      required: true,
      valid: FLOW,
      doc: 'the UUID (`pk`) of the authorization flow the providers use, e.g. that of `default-provider-authorization-implicit-consent`',
    }),
    invalidationFlow: setting.text('INVALIDATION_FLOW', {
      required: true,
      valid: FLOW,
      doc: 'the UUID (`pk`) of the invalidation flow, e.g. that of `default-provider-invalidation-flow`',
    }),
  },
});

/** The adapter as the server loads it: OAuth2 providers and applications through authentik's API. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<AuthentikAdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) => createAuthentikAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
