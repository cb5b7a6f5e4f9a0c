import { existsSync } from 'node:fs';
import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createPingFederateAdapter, type PingFederateAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The adapter as the server loads it: OAuth clients through PingFederate's administrative API. */
export const dcrBridgeAdapter: AdapterModule<Omit<PingFederateAdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    const adminUrl = settings.url('ADMIN_URL', { required: true }) ?? '';
    const username = settings.string('ADMIN_USERNAME');
    const password = settings.secret('ADMIN_PASSWORD');
    const tokenEndpoint = settings.url('OAUTH_TOKEN_URL');
    const clientId = settings.string('OAUTH_CLIENT_ID');
    const clientSecret = settings.secret('OAUTH_CLIENT_SECRET');
    const caFile = settings.string('CA_FILE');
    if (caFile && !existsSync(caFile)) settings.problem(`PINGFEDERATE_CA_FILE names ${caFile}, which does not exist.`);
    const basic = Boolean(username || password);
    const oauth = Boolean(clientId || clientSecret || settings.raw('OAUTH_TOKEN_URL'));
    if (basic && oauth) settings.problem('Set PINGFEDERATE_ADMIN_USERNAME/PASSWORD or PINGFEDERATE_OAUTH_*, not both.');
    else if (!basic && !oauth)
      settings.problem(
        'Set PINGFEDERATE_ADMIN_USERNAME + PINGFEDERATE_ADMIN_PASSWORD, or PINGFEDERATE_OAUTH_TOKEN_URL + PINGFEDERATE_OAUTH_CLIENT_ID + PINGFEDERATE_OAUTH_CLIENT_SECRET.',
      );
    else if (basic && !(username && password)) settings.problem('PINGFEDERATE_ADMIN_USERNAME and PINGFEDERATE_ADMIN_PASSWORD go together.');
    else if (oauth && !(tokenEndpoint && clientId && clientSecret))
      settings.problem('PINGFEDERATE_OAUTH_TOKEN_URL, PINGFEDERATE_OAUTH_CLIENT_ID and PINGFEDERATE_OAUTH_CLIENT_SECRET go together.');
    return {
      adminUrl,
      auth: basic
        ? { username: username ?? '', password: password ?? '' }
        : {
            tokenEndpoint: tokenEndpoint ?? '',
            clientId: clientId ?? '',
            clientSecret: clientSecret ?? '',
            scope: settings.string('OAUTH_SCOPE'),
          },
      caFile,
      accessTokenManagerId: settings.string('ACCESS_TOKEN_MANAGER_ID'),
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => createPingFederateAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
