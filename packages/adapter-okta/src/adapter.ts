import {
  BridgeError,
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  defineDcrAdapter,
  path,
  silentLogger,
  staticAuthorization,
  type AuthorizationSource,
  type DcrAdapter,
  type IdpPrimitives,
  type Logger,
  type OperationContext,
  type StateStore,
  type Dispatcher,
} from '@dcr-bridge/core';
import { importJWK, importPKCS8, type CryptoKey } from 'jose';
import { bridgeProfile, clientNameFor, oktaClient, oktaMessage, orgUrl, type BridgeProfile, type OktaClient } from './settings.js';

export type OktaAuthentication =
  /** An API token (`Authorization: SSWS …`), as Kong's example bridge uses. */
  | { apiToken: string }
  /** OAuth 2.0 for Okta: a service app that signs its client assertion (private_key_jwt). */
  | { clientId: string; privateKey: string; keyId?: string; scopes?: string[] };

export interface OktaAdapterOptions {
  /** The org: `dev-123.okta.com` or `https://dev-123.okta.com/`. */
  domain: string;
  auth: OktaAuthentication;
  /** Where open creates are journaled (core's lifecycle); default in memory. The server keeps it in the store file. */
  journal?: StateStore;
  /** Where IdP calls go (undici): a shared pool, a private CA's Agent, or undici's MockAgent in tests. Default: a keep-alive pool of the adapter's own. */
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Ceiling of one request to Okta; default 30 000 ms (the operation's budget usually ends it first). */
  timeoutMs?: number;
}

export const DEFAULT_SCOPES = ['okta.clients.manage', 'okta.clients.read', 'okta.apps.manage', 'okta.apps.read'];

interface OktaApp {
  id: string;
  profile?: { dcrBridge?: Partial<BridgeProfile> } & Record<string, unknown>;
  [field: string]: unknown;
}

export function createOktaAdapter(options: OktaAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const org = orgUrl(options.domain);
  const http = createIdpHttpClient({
    idpName: 'Okta',
    baseUrl: org,
    authorization: authorization(org, options, logger),
    describeErrorBody: oktaMessage,
    // Okta announces when its rate-limit window resets (epoch seconds), not a Retry-After.
    retryAfterSeconds: (response) => {
      const reset = Number(response.headers.get('x-rate-limit-reset'));
      return Number.isFinite(reset) && reset > 0 ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : undefined;
    },
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const oauthClient = (clientId: string) => path`/oauth2/v1/clients/${clientId}`;
  const app = (clientId: string) => path`/api/v1/apps/${clientId}`;

  /** The client's application (an OIDC client's app id is its client_id), or undefined when it is gone. */
  function find(clientId: string, context: OperationContext): Promise<OktaApp | undefined> {
    return http.find<OktaApp>(app(clientId), `reading application ${clientId}`, { signal: context.signal });
  }


  const primitives: IdpPrimitives<OktaApp> = {
    id: 'okta',
    idpName: 'Okta',
    marker: 'dcrBridge marker in its application profile',
    find,
    isOurs: (found) => found.profile?.dcrBridge?.managed === true,

    async create(registration, context) {
      const settings = oktaClient(registration, context.nonce);
      const created = await http.post<OktaClient>('/oauth2/v1/clients', { json: settings, signal: context.signal });
      if (created.status !== 201 || typeof created.body?.client_id !== 'string') throw http.refusal(created, 'the client');
      const client = created.body as OktaClient & { client_id: string };
      await context.created(client.client_id);
      if (typeof client.client_secret !== 'string') throw new BridgeError('idp_error', 'Okta created the client without a secret.');
      // The marker lives in the application's profile (the OAuth client object has no custom fields).
      const current = await http.get<OktaApp>(app(client.client_id), { signal: context.signal });
      if (!current.ok) throw http.errorFromResponse(current, `reading application ${client.client_id}`);
      const profile = { ...current.body.profile, dcrBridge: bridgeProfile(registration) };
      const marked = await http.put(app(client.client_id), { json: { ...current.body, profile }, signal: context.signal, idempotent: true });
      if (!marked.ok) throw http.errorFromResponse(marked, `marking application ${client.client_id}`);
      return {
        clientId: client.client_id,
        clientSecret: client.client_secret,
        clientIdIssuedAt: typeof client.client_id_issued_at === 'number' ? new Date(client.client_id_issued_at * 1000) : undefined,
        clientSecretExpiresAt: client.client_secret_expires_at ? new Date(client.client_secret_expires_at * 1000) : undefined,
      };
    },

    async findByNonce(nonce, draft, context) {
      // `q` searches client_name by prefix and lists exact matches first, so the first page holds the one
      // whose name is exactly the create's (Okta refuses duplicate names).
      const name = clientNameFor(draft.clientName, nonce);
      const listed = await http.get<OktaClient[]>('/oauth2/v1/clients', { query: { q: name, limit: 20 }, signal: context.signal });
      if (!listed.ok || !Array.isArray(listed.body)) throw http.errorFromResponse(listed, `searching for client ${name}`);
      const clientId = listed.body.find((candidate) => candidate.client_name === name)?.client_id;
      if (typeof clientId !== 'string') return undefined;
      const found = await find(clientId, context);
      return found ? { clientId, client: found } : undefined;
    },

    async remove(clientId, _found, context) {
      const response = await http.delete(oauthClient(clientId), { signal: context.signal });
      if (response.status === 204 || response.status === 404) return;
      // Okta answers an unknown client with 401 invalid_client on this endpoint; a bad admin credential
      // also answers 401, with an errorCode (E0000011). Only the first means "already gone".
      const body = response.body as { error?: unknown; errorCode?: unknown } | undefined;
      if (response.status === 401 && body?.error === 'invalid_client' && body.errorCode === undefined) return;
      throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    async rotateSecret(clientId, _found, context) {
      const response = await http.post<OktaClient>(`${oauthClient(clientId)}/lifecycle/newSecret`, { signal: context.signal });
      if (response.status === 404) throw new BridgeError('not_found', `Okta has no client ${clientId}.`);
      if (!response.ok || typeof response.body?.client_secret !== 'string') throw http.errorFromResponse(response, `rotating the secret of ${clientId}`);
      return response.body.client_secret;
    },

    async replaceRedirectUris(clientId, _found, redirectUris, context) {
      // PUT replaces every setting: read them, change the redirect URIs, write them all back. The secret
      // stays out (Okta keeps it when a PUT omits it), so a rotation can never be undone by this write.
      const current = await http.get<OktaClient>(oauthClient(clientId), { signal: context.signal });
      if (!current.ok) throw http.errorFromResponse(current, `reading client ${clientId}`);
      const { client_secret: _secret, client_id_issued_at: _issued, client_secret_expires_at: _expires, ...settings } = current.body;
      const updated = await http.put(oauthClient(clientId), { json: { ...settings, redirect_uris: redirectUris }, signal: context.signal, idempotent: true });
      if (!updated.ok) throw http.refusal(updated, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe('/oauth2/v1/clients', 'listing clients', { query: { limit: 1 }, signal: context.signal }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { journal: options.journal, logger });
}

function authorization(org: string, options: OktaAdapterOptions, logger: Logger): AuthorizationSource {
  const { auth } = options;
  if ('apiToken' in auth) return staticAuthorization(`SSWS ${auth.apiToken}`);
  const tokenEndpoint = `${org}/oauth2/v1/token`;
  let key: Promise<CryptoKey> | undefined;
  const provider = (async () => {
    key ??= loadPrivateKey(auth.privateKey);
    return createClientCredentialsTokenProvider({
      issuer: org,
      tokenEndpoint,
      clientId: auth.clientId,
      // Okta wants the token endpoint itself as the assertion's audience.
      auth: { method: 'private_key_jwt', privateKey: await key, keyId: auth.keyId ?? jwkKeyId(auth.privateKey), audience: tokenEndpoint },
      scope: (auth.scopes ?? DEFAULT_SCOPES).join(' '),
      idpName: 'Okta',
      dispatcher: options.dispatcher,
      logger,
    });
  })();
  provider.catch(() => undefined);
  return {
    header: async (signal) => bearerAuthorization(await provider).header(signal),
    rejected: (header) => void provider.then((tokens) => tokens.invalidate(header.slice('Bearer '.length)), () => undefined),
  };
}

async function loadPrivateKey(text: string): Promise<CryptoKey> {
  try {
    if (text.trim().startsWith('{')) return (await importJWK(JSON.parse(text), (JSON.parse(text) as { alg?: string }).alg ?? 'RS256')) as CryptoKey;
    return await importPKCS8(text.replace(/\\n/g, '\n'), 'RS256');
  } catch {
    throw new BridgeError('internal_error', 'OKTA_PRIVATE_KEY is neither a PKCS#8 PEM private key nor a private JWK.');
  }
}

function jwkKeyId(text: string): string | undefined {
  if (!text.trim().startsWith('{')) return undefined;
  const kid = (JSON.parse(text) as { kid?: unknown }).kid;
  return typeof kid === 'string' ? kid : undefined;
}
