import { createPrivateKey } from 'node:crypto';
import type { AdapterModule } from '@dcr-bridge/core';
import { createOktaAdapter, type OktaAdapterOptions } from './adapter.js';

/**
 * `DCR_BRIDGE_ADAPTER=okta`. OKTA_DOMAIN and OKTA_API_TOKEN are the names Kong's example bridge uses, so
 * its users switch by changing the image only.
 */
export const dcrBridgeAdapter: AdapterModule<Omit<OktaAdapterOptions, 'logger' | 'dispatcher' | 'journal'>> = {
  id: 'okta',
  readOptions(settings) {
    const domain = settings.string('OKTA_DOMAIN', { required: true }) ?? '';
    if (domain) {
      try {
        new URL(/^https?:\/\//.test(domain) ? domain : `https://${domain}`);
      } catch {
        settings.problem(`OKTA_DOMAIN must be your Okta org, e.g. dev-123456.okta.com (got "${domain}").`);
      }
    }
    const apiToken = settings.secret('OKTA_API_TOKEN');
    const clientId = settings.string('OKTA_CLIENT_ID');
    const privateKey = settings.secret('OKTA_PRIVATE_KEY');
    const scopes = settings.list('OKTA_SCOPES');
    const timeoutMs = settings.integer('OKTA_TIMEOUT_MS', { default: 30_000, min: 100, max: 120_000 });
    const authorizationServerId = settings.string('OKTA_AUTHORIZATION_SERVER_ID', { default: 'default' });
    if (authorizationServerId && !/^[A-Za-z0-9]+$/.test(authorizationServerId)) settings.problem(`OKTA_AUTHORIZATION_SERVER_ID must be an authorization server id such as default or aus1a2b3c4d5e6f7g8h9 (got "${authorizationServerId}").`);
    if (apiToken && (clientId || privateKey)) settings.problem('Set OKTA_API_TOKEN or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY, not both.');
    if (!apiToken && !clientId && !privateKey) settings.problem('Set OKTA_API_TOKEN (an API token), or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY (OAuth 2.0 for Okta).');
    if (!apiToken && !clientId !== !privateKey) settings.problem('OKTA_CLIENT_ID and OKTA_PRIVATE_KEY go together.');
    if (privateKey && !isPrivateKey(privateKey)) settings.problem('OKTA_PRIVATE_KEY must be a PKCS#8 PEM private key or a private JWK (JSON).');
    const auth = apiToken
      ? { apiToken }
      : { clientId: clientId ?? '', privateKey: privateKey ?? '', keyId: settings.string('OKTA_PRIVATE_KEY_ID'), scopes: scopes.length > 0 ? scopes : undefined };
    return { domain, auth, timeoutMs, authorizationServerId };
  },
  create: async (options, context) => createOktaAdapter({ ...options, logger: context.logger, journal: await context.openJournal() }),
};

function isPrivateKey(text: string): boolean {
  try {
    const trimmed = text.trim();
    const key = trimmed.startsWith('{') ? createPrivateKey({ key: JSON.parse(trimmed), format: 'jwk' }) : createPrivateKey(trimmed.replace(/\\n/g, '\n'));
    return key.type === 'private';
  } catch {
    return false;
  }
}
