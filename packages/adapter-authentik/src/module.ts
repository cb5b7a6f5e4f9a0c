import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createAuthentikAdapter, type AuthentikAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The adapter as the server loads it: OAuth2 providers and applications through authentik's API, all settings named `AUTHENTIK_…`. */
export const dcrBridgeAdapter: AdapterModule<Omit<AuthentikAdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    const flow = (name: string) => {
      const value = settings.string(name, { required: true });
      if (value !== undefined && !UUID.test(value))
        settings.problem(
          `${settings.nameOf(name)} must be the UUID of a flow (authentik: Flows and Stages → Flows, or GET /api/v3/flows/instances/{slug}/ → pk), not "${value}".`,
        );
      return value ?? '';
    };
    return {
      baseUrl: settings.url('URL', { required: true }) ?? '',
      apiToken: settings.secret('API_TOKEN', { required: true }) ?? '',
      authorizationFlow: flow('AUTHORIZATION_FLOW'),
      invalidationFlow: flow('INVALIDATION_FLOW'),
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => createAuthentikAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
