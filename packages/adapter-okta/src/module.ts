import { createPrivateKey } from 'node:crypto';
import { INSECURE_HTTP, readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createOktaAdapter, type OktaAdapterOptions } from './adapter.js';
import { ADAPTER_ID, IDP_NAME, SETTINGS_PREFIX } from './identity.js';

/**
 * The adapter as the server loads it. OKTA_DOMAIN and OKTA_API_TOKEN are the names Kong's example bridge
 * uses, so its users switch by changing the image only.
 */
export const dcrBridgeAdapter: AdapterModule<Omit<OktaAdapterOptions, 'logger' | 'dispatcher' | keyof LifecycleSettings>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    const domain = settings.string('DOMAIN', { required: true }) ?? '';
    if (domain) {
      // A bare domain (dev-123456.okta.com) or a URL (Kong's example takes https://dev-123456.okta.com/); never repeated
      // in a problem, as a URL may hold a password.
      const scheme = domain.match(/^([a-z][a-z0-9+.-]*):\/\//i)?.[1]?.toLowerCase();
      let parsed: URL | undefined;
      try {
        parsed = new URL(scheme === undefined ? `https://${domain}` : domain);
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || (scheme !== undefined && scheme !== 'https' && scheme !== 'http') || parsed.username || parsed.password)
        settings.problem(
          `OKTA_DOMAIN must be your ${IDP_NAME} org, e.g. dev-123456.okta.com or https://dev-123456.okta.com (its value is not repeated here, as a URL may hold a password).`,
        );
      else if (scheme === 'http' && !settings.boolean(INSECURE_HTTP, { default: false }))
        settings.problem(
          `OKTA_DOMAIN must be an https URL or a bare domain (over http, the API token travels in clear; for a test org on this machine, set ${settings.nameOf(INSECURE_HTTP)}=true).`,
        );
    }
    const apiToken = settings.secret('API_TOKEN');
    const clientId = settings.string('CLIENT_ID');
    const privateKey = settings.secret('PRIVATE_KEY');
    const scopes = settings.list('SCOPES');
    const { timeoutMs } = readSharedAdapterSettings(settings);
    const authorizationServerId = settings.string('AUTHORIZATION_SERVER_ID', { default: 'default' });
    if (authorizationServerId && !/^[A-Za-z0-9]+$/.test(authorizationServerId))
      settings.problem(
        `OKTA_AUTHORIZATION_SERVER_ID must be an authorization server id such as default or aus1a2b3c4d5e6f7g8h9 (got "${authorizationServerId}").`,
      );
    if (apiToken && (clientId || privateKey)) settings.problem('Set OKTA_API_TOKEN or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY, not both.');
    if (!apiToken && !clientId && !privateKey)
      settings.problem(`Set OKTA_API_TOKEN (an API token), or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY (OAuth 2.0 for ${IDP_NAME}).`);
    if (!apiToken && !clientId !== !privateKey) settings.problem('OKTA_CLIENT_ID and OKTA_PRIVATE_KEY go together.');
    if (privateKey && !isPrivateKey(privateKey))
      settings.problem('OKTA_PRIVATE_KEY must be a PKCS#8 PEM private key or a private JWK (JSON).');
    const auth = apiToken
      ? { apiToken }
      : {
          clientId: clientId ?? '',
          privateKey: privateKey ?? '',
          keyId: settings.string('PRIVATE_KEY_ID'),
          scopes: scopes.length > 0 ? scopes : undefined,
        };
    return { domain, auth, timeoutMs, authorizationServerId };
  },
  create: async (options, context) => createOktaAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};

function isPrivateKey(text: string): boolean {
  try {
    const trimmed = text.trim();
    const key = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' })
      : createPrivateKey(trimmed.replace(/\\n/g, '\n'));
    return key.type === 'private';
  } catch {
    return false;
  }
}
