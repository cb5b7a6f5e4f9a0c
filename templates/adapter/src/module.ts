import { defineAdapterSettings, setting, type AdapterModule, type SettingsOptions } from '@dcr-bridge/core';
import { create__PASCAL__Adapter, type __PASCAL__AdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/**
 * The settings, all named `__ENV___…`, declared once: the server reads and checks them through this declaration,
 * and `pnpm docs:config` writes the README's configuration reference from it. Setting names appear here only.
 */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    baseUrl: setting.url('URL', { required: true, doc: "__DISPLAY__'s base URL, e.g. `https://idp.example.com`" }),
    apiToken: setting.secret('API_TOKEN', { required: true, doc: 'the admin API token the bridge calls __DISPLAY__ with (see IdP setup)' }),
  },
});

/** The adapter as the server loads it: its settings and its factory. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<__PASCAL__AdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) => create__PASCAL__Adapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
