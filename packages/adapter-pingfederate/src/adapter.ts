import { readFileSync } from 'node:fs';
import {
  BridgeError,
  basicAuthorization,
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  generateSecret,
  path,
  silentLogger,
  type AuthorizationSource,
  type DcrAdapter,
  type IdpResponse,
  type Logger,
  type OperationContext,
} from '@dcr-bridge/core';
import { Agent, fetch as undiciFetch } from 'undici';
import { isManaged, newClient, pingFederateMessage, type ClientDefaults, type PingFederateClient } from './client.js';

export type PingFederateAdminAuth =
  | { username: string; password: string }
  /** For an admin API configured for OAuth: client_credentials at PingFederate's token endpoint. */
  | { tokenEndpoint: string; issuer?: string; clientId: string; clientSecret: string; scope?: string };

export interface PingFederateAdapterOptions extends ClientDefaults {
  /** The admin API, e.g. https://pf.example.com:9999/pf-admin-api/v1 */
  adminUrl: string;
  auth: PingFederateAdminAuth;
  /** PEM file of the CA that signed the admin port's certificate (admin ports often use a private CA). */
  caFile?: string;
  fetch?: typeof fetch;
  logger?: Logger;
  timeoutMs?: number;
}

interface AuthServerSettings {
  scopes?: Array<{ name: string }>;
  exclusiveScopes?: Array<{ name: string }>;
}

export function createPingFederateAdapter(options: PingFederateAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const fetchImpl = options.fetch ?? (options.caFile ? fetchTrusting(readFileSync(options.caFile, 'utf8')) : undefined);
  const http = createIdpHttpClient({
    idpName: 'PingFederate',
    baseUrl: options.adminUrl,
    // PingFederate refuses admin API calls without it (CSRF protection).
    headers: { 'x-xsrf-header': 'PingFederate' },
    authorization: adminAuthorization(options.auth, fetchImpl, logger),
    describeErrorBody: pingFederateMessage,
    fetch: fetchImpl,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const clientPath = (clientId: string) => path`/oauth/clients/${clientId}`;

  function find(clientId: string, context: OperationContext): Promise<PingFederateClient | undefined> {
    return http.find<PingFederateClient>(clientPath(clientId), `reading client ${clientId}`, { signal: context.signal });
  }

  async function findManaged(clientId: string, context: OperationContext): Promise<PingFederateClient> {
    const found = await find(clientId, context);
    if (!found) throw new BridgeError('not_found', `PingFederate has no OAuth client ${clientId}.`);
    if (!isManaged(found)) throw new BridgeError('client_not_managed', `Client ${clientId} was not created by the bridge (no dcr-bridge marker in its description); the bridge leaves it alone.`);
    return found;
  }

  function refused(response: IdpResponse, action: string): BridgeError {
    if (response.status === 400 || response.status === 422) {
      const message = pingFederateMessage(response.body) ?? 'no reason given';
      return new BridgeError(/redirect/i.test(message) ? 'invalid_redirect_uri' : 'invalid_client_metadata', `PingFederate refused ${action}: ${message}`);
    }
    return http.errorFromResponse(response, action);
  }

  async function put(client: PingFederateClient, context: OperationContext, action: string): Promise<void> {
    const response = await http.put(clientPath(client.clientId), { json: client, signal: context.signal });
    if (!response.ok) throw refused(response, action);
  }

  return {
    id: 'pingfederate',
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: false },

    async createClient(registration, context) {
      const { client, secret } = newClient(registration, options);
      if (registration.scopes.length > 0) {
        const settings = await http.get<AuthServerSettings>('/oauth/authServerSettings', { signal: context.signal });
        if (!settings.ok) throw http.errorFromResponse(settings, 'reading the authorization server settings');
        const known = new Set([...(settings.body.scopes ?? []), ...(settings.body.exclusiveScopes ?? [])].map((scope) => scope.name));
        const unknown = registration.scopes.filter((scope) => !known.has(scope));
        if (unknown.length > 0) throw new BridgeError('invalid_scope', `PingFederate has no scope${unknown.length > 1 ? 's' : ''} ${unknown.map((scope) => `"${scope}"`).join(', ')} (OAuth Server → Scope Management).`);
      }
      // One call creates the client with its secret: nothing to undo if it fails.
      const created = await http.post<PingFederateClient>('/oauth/clients', { json: client, signal: context.signal });
      if (created.status !== 201 && created.status !== 200) throw refused(created, 'the new client');
      return { clientId: client.clientId, clientSecret: secret };
    },

    async deleteClient(clientId, context) {
      const found = await find(clientId, context);
      if (!found) return;
      if (!isManaged(found)) throw new BridgeError('client_not_managed', `Client ${clientId} was not created by the bridge; the bridge leaves it alone.`);
      const response = await http.delete(clientPath(clientId), { signal: context.signal });
      if (response.status !== 204 && response.status !== 200 && response.status !== 404) throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    async rotateSecret(clientId, context) {
      const found = await findManaged(clientId, context);
      const secret = generateSecret();
      // A new plaintext secret and no secondary secrets: the old secret stops working at once.
      await put({ ...found, clientAuth: { type: 'SECRET', secret, secondarySecrets: [] } }, context, `the new secret of ${clientId}`);
      return { clientId, clientSecret: secret };
    },

    async applyEvent(clientId, event, context) {
      if (event.type !== 'update_application') return;
      const found = await findManaged(clientId, context);
      // Passing encryptedSecret back unchanged keeps the secret (PingFederate's documented contract).
      await put({ ...found, redirectUris: event.redirectUris }, context, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe('/oauth/clients', 'listing clients', { query: { numberPerPage: 1 }, signal: context.signal }),
  };
}

function adminAuthorization(auth: PingFederateAdminAuth, fetchImpl: typeof fetch | undefined, logger: Logger): AuthorizationSource {
  if ('username' in auth) return basicAuthorization(auth.username, auth.password);
  return bearerAuthorization(
    createClientCredentialsTokenProvider({
      issuer: auth.issuer ?? new URL(auth.tokenEndpoint).origin,
      tokenEndpoint: auth.tokenEndpoint,
      clientId: auth.clientId,
      auth: { method: 'client_secret_basic', clientSecret: auth.clientSecret },
      scope: auth.scope,
      idpName: 'PingFederate',
      fetch: fetchImpl,
      logger,
    }),
  );
}

/** fetch that trusts the given CA (plus nothing else) for TLS, through an undici dispatcher. */
export function fetchTrusting(caPem: string): typeof fetch {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  return ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as unknown as typeof fetch;
}
