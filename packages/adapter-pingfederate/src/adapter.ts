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
  type CommonAdapterOptions,
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
  REGISTRATION,
  pingFederateMessage,
  withoutSecret,
  writable,
  type ClientDefaults,
  type PingFederateClient,
} from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';

/**
 * Marks what `secretValue.read` returns as PingFederate's encryptedSecret, so that `set` sends it back as one;
 * a secret the bridge generated is base64url and never starts with it.
 */
const ENCRYPTED = 'pingfederate-encrypted:';

export type PingFederateAdminAuth =
  | { username: string; password: string }
  /** For an admin API configured for OAuth: client_credentials at PingFederate's token endpoint. */
  | { tokenEndpoint: string; issuer?: string; clientId: string; clientSecret: string; scope?: string };

export interface PingFederateAdapterOptions extends ClientDefaults, CommonAdapterOptions {
  /** The admin API, e.g. https://pf.example.com:9999/pf-admin-api/v1 */
  adminUrl: string;
  auth: PingFederateAdminAuth;
  /** PEM file of the CA that signed the admin port's certificate (admin ports often use a private CA). */
  caFile?: string;
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

  /** The requested scopes PingFederate has (its common and exclusive scopes), by name. */
  async function findScopes(names: readonly string[], context: OperationContext): Promise<Map<string, string>> {
    const settings = await http.get<AuthServerSettings>(path`/oauth/authServerSettings`, { signal: context.signal });
    if (!settings.ok) throw http.errorFromResponse(settings, 'reading the authorization server settings');
    const known = [...(settings.body.scopes ?? []), ...(settings.body.exclusiveScopes ?? [])].map((scope) => scope.name);
    return new Map(known.filter((name) => names.includes(name)).map((name) => [name, name]));
  }

  const secretPath = (clientId: string) => path`${clientPath(clientId)}/clientAuth/clientSecret`;

  /** The client's current secret as PingFederate encrypts it (its `ClientSecret` resource). */
  async function readSecret(clientId: string, context: OperationContext): Promise<string> {
    const response = await http.get<{ encryptedSecret?: string }>(secretPath(clientId), { signal: context.signal });
    if (!response.ok) throw http.errorFromResponse(response, `reading the secret of client ${clientId}`);
    if (!response.body.encryptedSecret) throw new BridgeError('idp_error', `${IDP_NAME} gave client ${clientId} no client secret.`);
    return response.body.encryptedSecret;
  }

  /**
   * Sets the client's only secret: `{secret}` or `{encryptedSecret}` and no secondary secrets (PingFederate's
   * `ClientSecret` model; a PUT without `secondarySecrets` would keep the current ones). A client deleted
   * meanwhile answers 404, which surfaces as a 502 and makes core read again and answer not_found.
   */
  async function putSecret(
    clientId: string,
    body: { secret: string } | { encryptedSecret: string },
    action: string,
    context: OperationContext,
  ): Promise<void> {
    const response = await http.put(secretPath(clientId), {
      json: { ...body, secondarySecrets: [] },
      signal: context.signal,
      idempotent: true,
    });
    if (!response.ok) throw http.refusal(response, action);
  }

  const primitives: IdpPrimitives<PingFederateClient> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: 'dcr-bridge marker line in its description',
    find,
    isOurs: isManaged,
    registration: { ...REGISTRATION, scopes: { kind: 'looked-up', where: 'OAuth Server → Scope Management', find: findScopes } },

    async create(registration, context) {
      const { client, secret } = newClient(registration, options, context.nonce);
      // One call creates the client with its secret; core finds it by its nonce-suffixed id if the answer is lost.
      const created = await http.post<PingFederateClient>(path`/oauth/clients`, { json: client, signal: context.signal });
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
      // The secret's own resource: the write carries nothing but the new secret, and no secondary secrets,
      // so the old secret stops working at once (the client's retention period is 0, set at the create).
      // Repeating it sets the same secret, so the HTTP client may retry it.
      await putSecret(clientId, { secret }, `the new secret of ${clientId}`, context);
      return secret;
    },

    // Restore, without ever holding Konnect's secret in clear: PingFederate never returns a plaintext secret,
    // but every read gives the secret's encryptedSecret, and a PUT takes it back in place of `secret`
    // ("passed back unchanged" to reuse it). Core keeps what `read` returns (sealed, for the rotation's
    // lifetime) and hands it to `set` when Konnect did not get the new secret. PingFederate keeps no
    // identity per secret (an encryptedSecret differs on every read), so two-secrets rotation cannot be
    // built on its secondary secrets: see the README's "Rotation".
    secretValue: {
      async read(clientId, _remembered, context) {
        // The client as PingFederate holds it now: its encryptedSecret is the secret Konnect holds (a remembered
        // copy may carry one rotated since, or none: the create's copy leaves the secret out).
        const current = await context.current();
        const encrypted = current.clientAuth?.encryptedSecret ?? (await readSecret(clientId, context));
        return `${ENCRYPTED}${encrypted}`;
      },
      async set(clientId, _found, value, context) {
        // What `read` gave goes back as the encryptedSecret; anything else is a secret the bridge generated
        // (core keeps the new one once Konnect got it, in case a rotation that failed earlier lands late).
        const body = value.startsWith(ENCRYPTED) ? { encryptedSecret: value.slice(ENCRYPTED.length) } : { secret: value };
        await putSecret(clientId, body, `the secret of ${clientId} put back`, context);
      },
    },

    async replaceRedirectUris(clientId, _remembered, redirectUris, context) {
      // PingFederate's PUT replaces the whole client, the secret's encryptedSecret included: send back the
      // client as PingFederate holds it now (a remembered copy would bring back a secret rotated since, and
      // undo an administrator's changes), whose encryptedSecret keeps the secret (its documented contract).
      // Core runs one operation per client at a time, so no rotation can slip in between that read and this write.
      const response = await http.put(clientPath(clientId), {
        json: { ...writable(await context.current()), redirectUris },
        signal: context.signal,
        idempotent: true,
      });
      if (!response.ok) throw http.refusal(response, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe(path`/oauth/clients`, 'listing clients', { query: { numberPerPage: 1 }, signal: context.signal }),
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
