import { readFileSync } from 'node:fs';
import {
  BridgeError,
  defineDcrAdapter,
  generateSecret,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type Logger,
  type OperationContext,
  lifecycleSettings,
  type LifecycleSettings,
} from '@dcr-bridge/core';
import {
  basicAuthorization,
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  path,
  type AuthorizationSource,
  type Dispatcher,
} from '@dcr-bridge/core/idp';
import { Agent } from 'undici';
import { createPingFederateDiagnostics } from './diagnostics.js';
import {
  clientIdFor,
  isManaged,
  newClient,
  pingFederateMessage,
  withoutSecret,
  writable,
  type ClientDefaults,
  type PingFederateClient,
} from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';

export type PingFederateAdminAuth =
  | { username: string; password: string }
  /** For an admin API configured for OAuth: client_credentials at PingFederate's token endpoint. */
  | { tokenEndpoint: string; issuer?: string; clientId: string; clientSecret: string; scope?: string };

export interface PingFederateAdapterOptions extends ClientDefaults, LifecycleSettings {
  /** The admin API, e.g. https://pf.example.com:9999/pf-admin-api/v1 */
  adminUrl: string;
  auth: PingFederateAdminAuth;
  /** PEM file of the CA that signed the admin port's certificate (admin ports often use a private CA). */
  caFile?: string;
  /** Where admin API calls go (undici): default a keep-alive pool trusting `caFile` when set. Tests pass undici's MockAgent. */
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Ceiling of one request to PingFederate; default 30 000 ms (the operation's budget usually ends it first). */
  timeoutMs?: number;
}

interface AuthServerSettings {
  scopes?: Array<{ name: string }>;
  exclusiveScopes?: Array<{ name: string }>;
}

export function createPingFederateAdapter(options: PingFederateAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const dispatcher = options.dispatcher ?? (options.caFile ? trusting(readFileSync(options.caFile, 'utf8')) : undefined);
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: options.adminUrl,
    // PingFederate refuses admin API calls without it (CSRF protection); the value is the one its docs give, not the IdP's display name.
    headers: { 'x-xsrf-header': 'PingFederate' },
    authorization: adminAuthorization(options.auth, dispatcher, logger),
    describeErrorBody: pingFederateMessage,
    dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const clientPath = (clientId: string) => path`/oauth/clients/${clientId}`;

  function find(clientId: string, context: OperationContext): Promise<PingFederateClient | undefined> {
    return http.find<PingFederateClient>(clientPath(clientId), `reading client ${clientId}`, { signal: context.signal });
  }

  async function checkScopes(scopes: string[], context: OperationContext): Promise<void> {
    const settings = await http.get<AuthServerSettings>('/oauth/authServerSettings', { signal: context.signal });
    if (!settings.ok) throw http.errorFromResponse(settings, 'reading the authorization server settings');
    const known = new Set([...(settings.body.scopes ?? []), ...(settings.body.exclusiveScopes ?? [])].map((scope) => scope.name));
    const unknown = scopes.filter((scope) => !known.has(scope));
    if (unknown.length > 0)
      throw new BridgeError(
        'invalid_scope',
        `${IDP_NAME} has no scope${unknown.length > 1 ? 's' : ''} ${unknown.map((scope) => `"${scope}"`).join(', ')} (OAuth Server → Scope Management).`,
      );
  }

  const primitives: IdpPrimitives<PingFederateClient> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: 'dcr-bridge marker line in its description',
    find,
    isOurs: isManaged,
    // The full-client PUT writes back every setting, the secret's encryptedSecret included: it must start
    // from the client as PingFederate holds it now, never from a remembered one (that would bring back a
    // secret rotated since). Rotate and delete use sub-resources or the id alone, so they need no read.
    readsCurrent: ['replaceRedirectUris'],

    async create(registration, context) {
      const { client, secret } = newClient(registration, options, context.nonce);
      if (registration.scopes.length > 0) await checkScopes(registration.scopes, context);
      // One call creates the client with its secret; core finds it by its nonce-suffixed id if the answer is lost.
      const created = await http.post<PingFederateClient>('/oauth/clients', { json: client, signal: context.signal });
      if (created.status !== 201 && created.status !== 200) throw http.refusal(created, 'the new client');
      // What was sent is the client as PingFederate holds it (the bridge chose its id), minus the plaintext secret.
      await context.created(client.clientId, withoutSecret(client));
      return { clientId: client.clientId, clientSecret: secret };
    },

    async findByNonce(nonce, draft, context) {
      // The clientId is the application name's slug with the nonce as its unique suffix: one exact lookup.
      const clientId = clientIdFor(draft.clientName, nonce);
      const found = await find(clientId, context);
      return found ? { clientId, client: found } : undefined;
    },

    async remove(clientId, _found, context) {
      // By id alone: a remembered client costs this one call.
      const response = await http.delete(clientPath(clientId), { signal: context.signal });
      if (response.status !== 204 && response.status !== 200 && response.status !== 404)
        throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    async rotateSecret(clientId, _found, context) {
      const secret = generateSecret();
      // The secret's own resource: the write carries nothing but the new secret, and no secondary
      // secrets, so the old secret stops working at once. It needs nothing of the client but its id, so
      // a remembered client costs this one call; one deleted meanwhile answers 404, which surfaces as a
      // 502 and makes core read again and answer not_found.
      const response = await http.put(`${clientPath(clientId)}/clientAuth/clientSecret`, {
        json: { secret, secondarySecrets: [] },
        signal: context.signal,
        idempotent: true,
      });
      if (!response.ok) throw http.refusal(response, `the new secret of ${clientId}`);
      return secret;
    },

    async replaceRedirectUris(clientId, found, redirectUris, context) {
      // PingFederate's PUT replaces the whole client: send back what find has just read (readsCurrent),
      // whose encryptedSecret keeps the secret (its documented contract). Core runs one operation per
      // client at a time, so no rotation can slip in between that read and this write.
      const response = await http.put(clientPath(clientId), {
        json: { ...writable(found), redirectUris },
        signal: context.signal,
        idempotent: true,
      });
      if (!response.ok) throw http.refusal(response, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe('/oauth/clients', 'listing clients', { query: { numberPerPage: 1 }, signal: context.signal }),
    diagnostics: createPingFederateDiagnostics({
      adminUrl: options.adminUrl,
      http,
      username: 'username' in options.auth ? options.auth.username : undefined,
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger });
}

function adminAuthorization(auth: PingFederateAdminAuth, dispatcher: Dispatcher | undefined, logger: Logger): AuthorizationSource {
  if ('username' in auth) return basicAuthorization(auth.username, auth.password);
  return bearerAuthorization(
    createClientCredentialsTokenProvider({
      issuer: auth.issuer ?? new URL(auth.tokenEndpoint).origin,
      tokenEndpoint: auth.tokenEndpoint,
      clientId: auth.clientId,
      auth: { method: 'client_secret_basic', clientSecret: auth.clientSecret },
      scope: auth.scope,
      idpName: IDP_NAME,
      dispatcher,
      logger,
    }),
  );
}

/** A keep-alive pool that trusts the given CA (plus nothing else) for TLS. */
function trusting(caPem: string): Agent {
  return new Agent({ connect: { ca: caPem }, keepAliveTimeout: 10_000 });
}
