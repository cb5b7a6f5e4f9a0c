import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createPingOneAdapter, type PingOneAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';
import { REGIONS } from './mapping.js';

/** The adapter as the server loads it: OIDC applications through the PingOne Platform API. */
export const dcrBridgeAdapter: AdapterModule<Omit<PingOneAdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    const apiUrl = settings.url('API_URL');
    const authUrl = settings.url('AUTH_URL');
    if (!apiUrl !== !authUrl) settings.problem('PINGONE_API_URL and PINGONE_AUTH_URL go together (or set PINGONE_REGION).');
    return {
      environmentId: settings.string('ENVIRONMENT_ID', { required: true }) ?? '',
      region: settings.oneOf('REGION', REGIONS, { default: 'com' }),
      apiUrl,
      authUrl,
      clientId: settings.string('CLIENT_ID', { required: true }) ?? '',
      clientSecret: settings.secret('CLIENT_SECRET', { required: true }) ?? '',
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => createPingOneAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
