import * as oidc from 'openid-client';
import {
  BridgeError,
  defineDcrAdapter,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type Logger,
  type OperationContext,
  type StateStore,
  notReady,
  lifecycleSettings,
  type LifecycleSettings,
} from '@dcr-bridge/core';
import {
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  type IdpHttpClient,
  type IdpResponse,
  type TokenProvider,
  type Dispatcher,
  fetchVia,
} from '@dcr-bridge/core/idp';
import { createRfc7591Diagnostics } from './diagnostics.js';
import { epochToDate, registrationError, registrationMetadata, updateBody, type ClientMetadata } from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';

export interface Rfc7591AdapterOptions extends LifecycleSettings {
  /** Issuer for discovery (openid-client `discovery`); one of issuer / registrationEndpoint is required. */
  issuer?: string;
  /** Registration endpoint given directly (no discovery). */
  registrationEndpoint?: string;
  /** Token endpoint for `tokenClient` when there is no issuer to discover it from. */
  tokenEndpoint?: string;
  /** A static initial access token for registration. */
  initialAccessToken?: string;
  /** Or: obtain the initial access token by client_credentials (core's token provider). */
  tokenClient?: { clientId: string; clientSecret: string; scope?: string };
  /** Keeps registration_client_uri + registration_access_token per client (encrypted by core). */
  store: StateStore;
  /** Allow http:// IdP URLs (tests, the server's dev mode). Default false. */
  allowInsecureHttp?: boolean;
  /** Where IdP calls go (undici): a shared pool, a private CA's Agent, or undici's MockAgent in tests. Default: a keep-alive pool of the adapter's own. */
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Ceiling of one request to the IdP; default 30 000 ms (the operation's budget usually ends it first). */
  timeoutMs?: number;
}

/** What the bridge keeps per client: the only way back to it under RFC 7592. */
interface RegistrationRecord {
  registrationClientUri: string;
  registrationAccessToken: string;
  /**
   * Set while a write whose outcome decides what a refused token means is under way: `writing` (an
   * update, which may rotate the token), `deleting` (the bridge's own delete); `lost` once an update went
   * through without its answer, so its new token is unknown.
   */
  state?: 'writing' | 'deleting' | 'lost';
}

/**
 * What find() hands core, and core hands back (also from memory): the proof that the bridge holds the
 * client's registration. Everything else about the client changes (the registration access token rotates
 * on every update), so the primitives read the record from the store, and the client from the IdP, afresh.
 */
interface HeldRegistration {
  clientId: string;
}

/** A client read with its registration access token: the record that reached it and its current metadata. */
interface ManagedClient {
  record: RegistrationRecord;
  metadata: ClientMetadata;
}

/** Budget of the read that settles an update's fate, and of the delete of a client that could not be recorded. */
const cleanupReadTimeoutMs = 10_000;

interface Endpoints {
  registrationEndpoint: string;
  tokenEndpoint?: string;
  issuer?: string;
  /** From discovery, when the IdP publishes it: lets the bridge name an unknown scope before registering. */
  scopesSupported?: string[];
}

export function createRfc7591Adapter(options: Rfc7591AdapterOptions): DcrAdapter {
  if (!options.issuer === !options.registrationEndpoint) {
    throw new Error('createRfc7591Adapter needs exactly one of issuer and registrationEndpoint.');
  }
  if (options.initialAccessToken && options.tokenClient) {
    throw new Error('createRfc7591Adapter takes a static initialAccessToken or a tokenClient, not both.');
  }
  if (options.tokenClient && !options.issuer && !options.tokenEndpoint) {
    throw new Error('createRfc7591Adapter needs tokenEndpoint (or an issuer to discover it) for tokenClient.');
  }
  const logger = options.logger ?? silentLogger;
  const { store } = options;
  const http: IdpHttpClient = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: options.issuer ?? options.registrationEndpoint ?? '',
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
    // GET and DELETE are repeated after a connection failure or a 429/502/503/504, never a PUT (it may rotate the
    // registration access token); each answer says how many attempts it took (`attempts`).
  });

  let endpoints: Promise<Endpoints> | undefined;
  let tokens: Promise<TokenProvider> | undefined;

  /** Discovery runs on first use and is cached; a failure is not, so the next call tries again. */
  function resolveEndpoints(): Promise<Endpoints> {
    endpoints ??= discover().catch((error: unknown) => {
      endpoints = undefined;
      throw error;
    });
    return endpoints;
  }

  /** The issuer's discovery document (openid-client `discovery`), read afresh. */
  async function discoveryDocument(issuer: string): Promise<oidc.ServerMetadata> {
    try {
      const config = await oidc.discovery(new URL(issuer), 'dcr-bridge', undefined, undefined, {
        execute: options.allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
        ...(options.dispatcher ? { [oidc.customFetch]: fetchVia(options.dispatcher) as oidc.CustomFetch } : {}),
        timeout: Math.ceil((options.timeoutMs ?? 30_000) / 1000),
      });
      return config.serverMetadata();
    } catch (error) {
      throw new BridgeError(
        'idp_unavailable',
        `Discovery of ${issuer} failed. Check RFC7591_ISSUER and that the IdP serves /.well-known/openid-configuration.`,
        { cause: error },
      );
    }
  }

  async function discover(): Promise<Endpoints> {
    if (options.registrationEndpoint) {
      return { registrationEndpoint: options.registrationEndpoint, tokenEndpoint: options.tokenEndpoint };
    }
    const issuer = options.issuer as string;
    const metadata = await discoveryDocument(issuer);
    if (typeof metadata.registration_endpoint !== 'string') {
      throw new BridgeError('idp_error', `${issuer} announces no registration_endpoint: dynamic client registration is not enabled there.`);
    }
    return {
      registrationEndpoint: metadata.registration_endpoint,
      tokenEndpoint: options.tokenEndpoint ?? metadata.token_endpoint,
      issuer,
      scopesSupported: Array.isArray(metadata.scopes_supported) ? metadata.scopes_supported : undefined,
    };
  }

  async function initialAccessToken(): Promise<string | undefined> {
    if (options.initialAccessToken) return options.initialAccessToken;
    if (!options.tokenClient) return undefined;
    return (await tokenProvider()).getToken();
  }

  /** Built once the token endpoint is known; concurrent first calls share it (and so one token request). */
  function tokenProvider(): Promise<TokenProvider> {
    tokens ??= resolveEndpoints().then(({ tokenEndpoint, issuer }) => {
      if (!tokenEndpoint) throw new BridgeError('idp_error', 'The IdP announces no token_endpoint; set RFC7591_TOKEN_ENDPOINT.');
      const client = options.tokenClient as NonNullable<Rfc7591AdapterOptions['tokenClient']>;
      return createClientCredentialsTokenProvider({
        issuer: issuer ?? new URL(tokenEndpoint).origin,
        tokenEndpoint,
        clientId: client.clientId,
        auth: { method: 'client_secret_basic', clientSecret: client.clientSecret },
        scope: client.scope,
        idpName: IDP_NAME,
        dispatcher: options.dispatcher,
        logger,
      });
    });
    tokens.catch(() => {
      tokens = undefined;
    });
    return tokens;
  }

  /** Sends one RFC 7592 request for a client the bridge registered, with its registration access token. */
  function manage(method: 'GET' | 'PUT' | 'DELETE', entry: RegistrationRecord, context: OperationContext, json?: ClientMetadata) {
    return http.request<ClientMetadata>(method, new URL(entry.registrationClientUri), {
      headers: { authorization: `Bearer ${entry.registrationAccessToken}` },
      json,
      signal: context.signal,
      route: '{registration_client_uri}',
    });
  }

  /** RFC 7592 §2.1: an unknown client and a dead registration access token both answer 401 (403 or 404 on some servers). */
  const refusesToken = (status: number) => status === 401 || status === 403 || status === 404;

  const notFound = (clientId: string) => new BridgeError('not_found', `${IDP_NAME} has no client ${clientId}.`);

  function lostControl(clientId: string, entry: RegistrationRecord): BridgeError {
    return new BridgeError(
      'idp_error',
      `The bridge can no longer manage client ${clientId}: the IdP ${entry.state === 'lost' ? 'rotated its registration access token during an update whose answer never arrived' : 'refuses its registration access token (the client was deleted or its token revoked at the IdP)'}. An operator must check client ${clientId} at the IdP and delete it there if it still exists; the bridge keeps its record and will not report it deleted.`,
    );
  }

  async function setState(clientId: string, entry: RegistrationRecord, state: RegistrationRecord['state']): Promise<RegistrationRecord> {
    const next: RegistrationRecord = {
      registrationClientUri: entry.registrationClientUri,
      registrationAccessToken: entry.registrationAccessToken,
      ...(state ? { state } : {}),
    };
    await store.set<RegistrationRecord>(clientId, next);
    return next;
  }

  /**
   * Ownership, with no IdP call: only the creator holds a client's registration access token, so a client
   * the bridge keeps a record for is the bridge's, and one it keeps none for cannot even be read.
   */
  async function find(clientId: string): Promise<HeldRegistration | undefined> {
    return (await store.get<RegistrationRecord>(clientId)) ? { clientId } : undefined;
  }

  /** The client's record as it is now in the store; throws not_found without one, and for a client whose token is lost. */
  async function currentRecord(clientId: string): Promise<RegistrationRecord> {
    const entry = await store.get<RegistrationRecord>(clientId);
    if (!entry) throw notFound(clientId);
    if (entry.state === 'lost') throw lostControl(clientId, entry);
    return entry;
  }

  /**
   * The client's current metadata, read with its registration access token (RFC 7592 §2.1), and the record
   * settled. A refused token means "gone" only when the bridge's own delete was under way; after an update
   * whose fate is unknown it means the update went through and rotated the token (control is lost);
   * otherwise it is ambiguous and reported as such, never as gone.
   */
  async function read(clientId: string, entry: RegistrationRecord, context: OperationContext): Promise<ManagedClient> {
    const response = await manage('GET', entry, context);
    if (refusesToken(response.status)) {
      if (entry.state === 'deleting') {
        await store.delete(clientId);
        throw notFound(clientId);
      }
      if (entry.state === 'writing') {
        const lost = await setState(clientId, entry, 'lost');
        context.logger.error(
          'lost control of a client: an update went through but its answer never arrived, so its new registration access token is lost; delete the client at the IdP by hand',
          { clientId },
        );
        throw lostControl(clientId, lost);
      }
      throw lostControl(clientId, entry);
    }
    if (!response.ok || typeof response.body !== 'object') throw http.errorFromResponse(response, `reading client ${clientId}`);
    // The token still works: an update or delete whose answer was lost never happened.
    const current = entry.state ? await setState(clientId, entry, undefined) : entry;
    return { record: current, metadata: response.body };
  }

  /**
   * An RFC 7592 update. The IdP may rotate the registration access token on every update (oidc-provider and
   * Keycloak do), so the record says an update is under way before it is sent, the update is never repeated
   * blindly, and it runs to completion under the operation's completion budget so that a late answer's new
   * token is still kept. Without an answer, a read with the old token tells whether the update went through.
   */
  async function update(clientId: string, client: ManagedClient, body: ClientMetadata, context: OperationContext): Promise<ClientMetadata> {
    const writing = await setState(clientId, client.record, 'writing');
    let response: IdpResponse<ClientMetadata>;
    try {
      response = await manage('PUT', writing, context, body);
    } catch (error) {
      // No answer: a read with the old token settles the record (normal again, or lost).
      await read(clientId, writing, { ...context, signal: AbortSignal.timeout(cleanupReadTimeoutMs) }).catch(() => undefined);
      throw error;
    }
    const token = response.ok && typeof response.body === 'object' ? response.body.registration_access_token : undefined;
    if (typeof token === 'string' && token !== '') {
      await store.set<RegistrationRecord>(clientId, {
        registrationAccessToken: token,
        registrationClientUri:
          typeof response.body.registration_client_uri === 'string' ? response.body.registration_client_uri : writing.registrationClientUri,
      });
    } else if (refusesToken(response.status)) {
      throw lostControl(clientId, await setState(clientId, writing, 'lost'));
    } else {
      await setState(clientId, writing, undefined);
    }
    const refused = registrationError(response);
    if (refused) throw refused;
    if (!response.ok || typeof response.body !== 'object') throw http.errorFromResponse(response, `updating client ${clientId}`);
    return response.body;
  }

  const primitives: IdpPrimitives<HeldRegistration> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: 'registration held by the bridge',
    find,
    isOurs: () => true,
    // The IdP decides which auth methods and grant types it registers; where its discovery document lists the
    // scopes it offers, core names an unknown one before registering (elsewhere the IdP refuses it).
    registration: {
      idp: IDP_NAME,
      clients: 'clients of this IdP',
      authMethods: 'checked-by-idp',
      grantTypes: 'checked-by-idp',
      scopes: {
        kind: 'looked-up',
        where: 'scopes_supported of its discovery document',
        async find(names) {
          const { scopesSupported } = await resolveEndpoints();
          return new Map(names.filter((name) => scopesSupported?.includes(name) ?? true).map((name) => [name, name]));
        },
      },
    },

    async create(registration, context) {
      const { registrationEndpoint } = await resolveEndpoints();
      const token = await initialAccessToken();
      const response = await http.post<ClientMetadata>(new URL(registrationEndpoint), {
        json: registrationMetadata(registration, context.nonce),
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: context.signal,
        route: '{registration_endpoint}',
      });
      const refused = registrationError(response);
      if (refused) throw refused;
      if (response.status === 401 || response.status === 403) {
        throw new BridgeError(
          'idp_error',
          `The IdP refused the registration request (HTTP ${response.status}): check the initial access token settings (RFC7591_INITIAL_ACCESS_TOKEN or RFC7591_TOKEN_CLIENT_*).`,
        );
      }
      if (!response.ok || typeof response.body !== 'object' || typeof response.body.client_id !== 'string') {
        throw http.errorFromResponse(response, 'registering a client');
      }
      const created = response.body;
      const clientId = created.client_id as string;
      if (typeof created.registration_client_uri !== 'string' || typeof created.registration_access_token !== 'string') {
        context.logger.error('registered client cannot be managed: delete it at the IdP by hand', { clientId });
        throw new BridgeError(
          'idp_error',
          `The IdP registered client ${clientId} without RFC 7592 management (no registration_client_uri or registration_access_token), so the bridge could never rotate or delete it. Delete ${clientId} at the IdP and enable client management there.`,
        );
      }
      const entry: RegistrationRecord = {
        registrationClientUri: created.registration_client_uri,
        registrationAccessToken: created.registration_access_token,
      };
      try {
        await store.set<RegistrationRecord>(clientId, entry);
      } catch (error) {
        // Without its record nobody could ever delete the client: delete it now, with the token in hand.
        const removed = await manage('DELETE', entry, { ...context, signal: AbortSignal.timeout(cleanupReadTimeoutMs) }).catch(
          () => undefined,
        );
        if (!removed?.ok)
          context.logger.error('could not record a registered client nor delete it: delete it at the IdP by hand', { clientId });
        throw error;
      }
      await context.created(clientId, { clientId });
      if (typeof created.client_secret !== 'string' || created.client_secret === '') {
        throw new BridgeError(
          'invalid_client_metadata',
          `The IdP issued no client secret for token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}".`,
        );
      }
      return {
        clientId,
        clientSecret: created.client_secret,
        clientIdIssuedAt: epochToDate(created.client_id_issued_at),
        clientSecretExpiresAt: epochToDate(created.client_secret_expires_at),
      };
    },

    async remove(clientId, _held, context) {
      let entry = await store.get<RegistrationRecord>(clientId);
      if (!entry) return;
      if (entry.state === 'lost') throw lostControl(clientId, entry);
      // An update whose fate is unknown may have rotated the token: settle that first, or a refusal below would be ambiguous.
      if (entry.state === 'writing') entry = (await read(clientId, entry, context)).record;
      const retried = entry.state === 'deleting';
      const deleting = retried ? entry : await setState(clientId, entry, 'deleting');
      const response = await manage('DELETE', deleting, context);
      const attempts = response.attempts;
      // A refused token means gone only when a delete of the bridge's went before this answer: an earlier
      // attempt of this one, or an earlier delete of this client whose answer was lost (record left `deleting`).
      if (response.ok || (refusesToken(response.status) && (retried || attempts > 1))) {
        await store.delete(clientId);
        return;
      }
      if (refusesToken(response.status)) {
        await setState(clientId, deleting, undefined);
        throw lostControl(clientId, entry);
      }
      // Only an answer to a single attempt says for sure that nothing was deleted.
      if (attempts === 1 && response.status < 500) await setState(clientId, deleting, undefined);
      throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    async rotateSecret(clientId, _held, context) {
      const client = await read(clientId, await currentRecord(clientId), context);
      const updated = await update(clientId, client, updateBody(client.metadata, {}, { keepSecret: false }), context);
      if (
        typeof updated.client_secret !== 'string' ||
        updated.client_secret === '' ||
        updated.client_secret === client.metadata.client_secret
      ) {
        throw new BridgeError(
          'unsupported_operation',
          'This IdP did not issue a new client secret on an RFC 7592 update, so the bridge cannot rotate secrets here. Turn on "disable refresh secret" for this DCR provider in Konnect.',
        );
      }
      return updated.client_secret;
    },

    async replaceRedirectUris(clientId, _held, redirectUris, context) {
      const client = await read(clientId, await currentRecord(clientId), context);
      const updated = await update(
        clientId,
        client,
        updateBody(client.metadata, { redirect_uris: redirectUris }, { keepSecret: true }),
        context,
      );
      if (typeof updated.client_secret === 'string' && updated.client_secret !== client.metadata.client_secret) {
        context.logger.warn(
          'the IdP issued a new secret while updating redirect URIs; the developer must refresh the secret in the portal',
          { clientId },
        );
      }
    },

    async checkReady() {
      try {
        await resolveEndpoints();
        await initialAccessToken();
        await store.check();
        return { ready: true };
      } catch (error) {
        return notReady(error);
      }
    },
    diagnostics: createRfc7591Diagnostics({
      issuer: options.issuer,
      registrationEndpoint: options.registrationEndpoint,
      initialAccessToken: options.initialAccessToken ? 'static' : options.tokenClient ? 'client_credentials' : 'none',
      discoveryDocument,
      tokenForRegistration: initialAccessToken,
      tokenEndpoint: async () => {
        const { tokenEndpoint } = await resolveEndpoints();
        if (!tokenEndpoint) throw new BridgeError('idp_error', 'The IdP announces no token_endpoint; set RFC7591_TOKEN_ENDPOINT.');
        return tokenEndpoint;
      },
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), journal: options.journal ?? store, logger });
}
