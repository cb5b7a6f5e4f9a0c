import { createPrivateKey } from 'node:crypto';
import { type AdapterModule, defineAdapterSettings, INSECURE_HTTP, setting, settingNamesOf, type SettingsOptions } from '@dcr-bridge/core';
import { createOktaAdapter, DEFAULT_SCOPES, type OktaAdapterOptions } from './adapter.js';
import { ADAPTER_ID, IDP_NAME, SETTINGS_PREFIX } from './identity.js';

/**
 * The settings, all named `OKTA_…`: what the server reads and the README's configuration reference shows.
 * OKTA_DOMAIN and OKTA_API_TOKEN are the names Kong's example bridge uses, so its users switch by changing the
 * image only.
 */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    domain: setting.text('DOMAIN', {
      required: true,
      // A bare domain or a URL, never repeated in a problem (a URL may hold a password).
      concealed: true,
      valid: { test: isOrg, expected: `your ${IDP_NAME} org, e.g. dev-123456.okta.com or https://dev-123456.okta.com` },
      doc: "your org: `dev-123456.okta.com`, or a URL such as `https://dev-123456.okta.com/` (as Kong's example takes it); `https` only, unless `OKTA_ALLOW_INSECURE_HTTP` allows `http`. Other schemes and URLs with a user or password are refused (the value is never repeated)",
    }),
    apiToken: setting.secret('API_TOKEN', {
      optionText: '`auth.apiToken`',
      doc: 'an API token (`Authorization: SSWS …`); or the two below',
    }),
    clientId: setting.text('CLIENT_ID', { optionText: '`auth.clientId`', doc: `OAuth 2.0 for ${IDP_NAME}: the bridge's API service app` }),
    privateKey: setting.secret('PRIVATE_KEY', {
      optionText: '`auth.privateKey`',
      valid: { test: isPrivateKey, expected: 'a PKCS#8 PEM private key or a private JWK (JSON)' },
      doc: 'its private key: PKCS#8 PEM (`\\n` escapes accepted) or a private JWK; checked at boot',
    }),
    keyId: setting.text('PRIVATE_KEY_ID', {
      optionText: '`auth.keyId`',
      defaultText: "the JWK's `kid`",
      doc: '`kid` of the client assertion',
    }),
    scopes: setting.list('SCOPES', {
      optionText: '`auth.scopes`',
      defaultText: `\`${DEFAULT_SCOPES.join(',')}\``,
      doc: 'scopes of the admin token',
    }),
    authorizationServerId: setting.text('AUTHORIZATION_SERVER_ID', {
      default: 'default',
      valid: { test: /^[A-Za-z0-9]+$/, expected: 'an authorization server id such as default or aus1a2b3c4d5e6f7g8h9' },
      doc: "the custom authorization server your API products use: the bridge's clients get their tokens at `{org}/oauth2/{id}/v1/token` (used by `dcr-bridge doctor`; see Doctor)",
    }),
    allowInsecureHttp: setting.boolean(INSECURE_HTTP, {
      default: false,
      optionText: '—',
      doc: '`true` lets `OKTA_DOMAIN` be a plain `http://` URL (a test org or stub on this machine): the API token or admin token then travels in clear. Without it an `http://` domain is refused at start, naming this setting; `dcr-bridge doctor` warns about admin traffic over http',
    }),
  },
  check({ domain, apiToken, clientId, privateKey, allowInsecureHttp }, { isSet }) {
    const problems: string[] = [];
    if (/^http:\/\//i.test(domain) && !allowInsecureHttp)
      problems.push(
        'OKTA_DOMAIN must be an https URL or a bare domain (over http, the API token travels in clear; for a test org on this machine, set OKTA_ALLOW_INSECURE_HTTP=true).',
      );
    const key = privateKey !== undefined || isSet('privateKey');
    if (apiToken && (clientId || key)) problems.push('Set OKTA_API_TOKEN or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY, not both.');
    if (!apiToken && !clientId && !key)
      problems.push(`Set OKTA_API_TOKEN (an API token), or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY (OAuth 2.0 for ${IDP_NAME}).`);
    if (!apiToken && !clientId !== !key) problems.push('OKTA_CLIENT_ID and OKTA_PRIVATE_KEY go together.');
    return problems;
  },
  options: ({ domain, apiToken, clientId, privateKey, keyId, scopes, authorizationServerId, timeoutMs }) => ({
    domain,
    auth: apiToken
      ? { apiToken }
      : { clientId: clientId ?? '', privateKey: privateKey ?? '', keyId, scopes: scopes.length > 0 ? scopes : undefined },
    timeoutMs,
    authorizationServerId,
  }),
});

/** The adapter as the server loads it. */
export const dcrBridgeAdapter: AdapterModule<SettingsOptions<OktaAdapterOptions>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) =>
    createOktaAdapter({ ...options, settingNames: settingNamesOf(settings), logger: context.logger, ...(await context.openLifecycle()) }),
};

/** A bare domain (dev-123456.okta.com) or an http(s) URL without a user or password (Kong's example takes https://dev-123456.okta.com/). */
function isOrg(domain: string): boolean {
  const scheme = domain.match(/^([a-z][a-z0-9+.-]*):\/\//i)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'https' && scheme !== 'http') return false;
  if (!URL.canParse(scheme === undefined ? `https://${domain}` : domain)) return false;
  const parsed = new URL(scheme === undefined ? `https://${domain}` : domain);
  return !parsed.username && !parsed.password;
}

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
