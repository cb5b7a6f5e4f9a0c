import type { AdapterModule } from '@dcr-bridge/core';
import { createPingOneAdapter, type PingOneAdapterOptions } from './adapter.js';
import { REGIONS } from './application.js';

/** `DCR_BRIDGE_ADAPTER=pingone`: OIDC applications through the PingOne Platform API. */
export const dcrBridgeAdapter: AdapterModule<Omit<PingOneAdapterOptions, 'logger' | 'dispatcher' | 'journal'>> = {
  id: 'pingone',
  readOptions(settings) {
    const apiUrl = settings.url('PINGONE_API_URL', { allowHttp: true });
    const authUrl = settings.url('PINGONE_AUTH_URL', { allowHttp: true });
    if (!apiUrl !== !authUrl) settings.problem('PINGONE_API_URL and PINGONE_AUTH_URL go together (or set PINGONE_REGION).');
    return {
      environmentId: settings.string('PINGONE_ENVIRONMENT_ID', { required: true }) ?? '',
      region: settings.oneOf('PINGONE_REGION', REGIONS, { default: 'com' }),
      apiUrl,
      authUrl,
      clientId: settings.string('PINGONE_CLIENT_ID', { required: true }) ?? '',
      clientSecret: settings.secret('PINGONE_CLIENT_SECRET', { required: true }) ?? '',
      timeoutMs: settings.integer('PINGONE_TIMEOUT_MS', { default: 30_000, min: 100, max: 120_000 }),
    };
  },
  create: async (options, context) => createPingOneAdapter({ ...options, logger: context.logger, journal: await context.openJournal() }),
};
