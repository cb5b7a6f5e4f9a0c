import { existsSync } from 'node:fs';
import { defineAdapterSettings, setting, type AdapterModule, type SettingsOptions } from '@dcr-bridge/core';
import { createPingFederateAdapter, type PingFederateAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The settings, all named `PINGFEDERATE_…`: what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    adminUrl: setting.url('ADMIN_URL', { required: true, doc: 'the admin API, e.g. `https://pf.example.com:9999/pf-admin-api/v1`' }),
    username: setting.text('ADMIN_USERNAME', { optionText: '`auth.username`', doc: 'an administrative account (Basic authentication)' }),
    password: setting.secret('ADMIN_PASSWORD', { optionText: '`auth.password`', doc: "that account's password" }),
    tokenEndpoint: setting.url('OAUTH_TOKEN_URL', {
      optionText: '`auth.tokenEndpoint`',
      doc: 'or, for an admin API configured for OAuth: client_credentials at that token endpoint (e.g. `https://pf.example.com:9031/as/token.oauth2`), one token per lifetime for concurrent calls',
    }),
    clientId: setting.text('OAUTH_CLIENT_ID', { optionText: '`auth.clientId`', doc: 'the client of that token request' }),
    clientSecret: setting.secret('OAUTH_CLIENT_SECRET', { optionText: '`auth.clientSecret`', doc: "that client's secret" }),
    scope: setting.text('OAUTH_SCOPE', { optionText: '`auth.scope`', doc: 'scope of that token request' }),
    caFile: setting.text('CA_FILE', {
      defaultText: 'system CAs',
      valid: { test: existsSync, expected: 'a file that exists' },
      doc: "PEM of the CA that signed the admin port's certificate (admin ports often use a private CA); checked at boot",
    }),
    accessTokenManagerId: setting.text('ACCESS_TOKEN_MANAGER_ID', {
      defaultText: "PingFederate's default",
      doc: 'the access token manager of the clients the bridge creates',
    }),
  },
  check({ username, password, tokenEndpoint, clientId, clientSecret }, { isSet }) {
    const basic = Boolean(username || password);
    const oauth = Boolean(clientId || clientSecret || isSet('tokenEndpoint'));
    if (basic && oauth) return ['Set PINGFEDERATE_ADMIN_USERNAME/PASSWORD or PINGFEDERATE_OAUTH_*, not both.'];
    if (!basic && !oauth)
      return [
        'Set PINGFEDERATE_ADMIN_USERNAME + PINGFEDERATE_ADMIN_PASSWORD, or PINGFEDERATE_OAUTH_TOKEN_URL + PINGFEDERATE_OAUTH_CLIENT_ID + PINGFEDERATE_OAUTH_CLIENT_SECRET.',
      ];
    if (basic && !(username && password)) return ['PINGFEDERATE_ADMIN_USERNAME and PINGFEDERATE_ADMIN_PASSWORD go together.'];
    if (oauth && !(tokenEndpoint && clientId && clientSecret))
      return ['PINGFEDERATE_OAUTH_TOKEN_URL, PINGFEDERATE_OAUTH_CLIENT_ID and PINGFEDERATE_OAUTH_CLIENT_SECRET go together.'];
    return [];
  },
  options: ({ adminUrl, username, password, tokenEndpoint, clientId, clientSecret, scope, caFile, accessTokenManagerId, timeoutMs }) => ({
    adminUrl,
    auth:
      username || password
        ? { username: username ?? '', password: password ?? '' }
        : { tokenEndpoint: tokenEndpoint ?? '', clientId: clientId ?? '', clientSecret: clientSecret ?? '', scope },
    caFile,
    accessTokenManagerId,
    timeoutMs,
  }),
});

/** The adapter as the server loads it: OAuth clients through PingFederate's administrative API. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<PingFederateAdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) => createPingFederateAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
