import * as oidc from 'openid-client';
import {
  BridgeError,
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  silentLogger,
  type DcrAdapter,
  type IdpHttpClient,
  type Logger,
  type OperationContext,
  type StateStore,
  type TokenProvider,
} from '@dcr-bridge/core';
import { epochToDate, registrationError, registrationMetadata, updateBody, type ClientMetadata } from './metadata.js';

export interface Rfc7591AdapterOptions {
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
  fetch?: typeof fetch;
  logger?: Logger;
  timeoutMs?: number;
}

/** What the bridge keeps per client: the only way back to it under RFC 7592. */
interface RegistrationRecord {
  registrationClientUri: string;
  registrationAccessToken: string;
}

interface Endpoints {
  registrationEndpoint: string;
  tokenEndpoint?: string;
  issuer?: string;
  /** From discovery, when the IdP publishes it: lets the bridge name an unknown scope before registering. */
  scopesSupported?: string[];
}

const IDP_NAME = 'The RFC 7591 IdP';

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
    fetch: options.fetch,
    logger,
    timeoutMs: options.timeoutMs,
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

  async function discover(): Promise<Endpoints> {
    if (options.registrationEndpoint) {
      return { registrationEndpoint: options.registrationEndpoint, tokenEndpoint: options.tokenEndpoint };
    }
    const issuer = options.issuer as string;
    let metadata: oidc.ServerMetadata;
    try {
      const config = await oidc.discovery(new URL(issuer), 'dcr-bridge', undefined, undefined, {
        execute: options.allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
        ...(options.fetch ? { [oidc.customFetch]: options.fetch as oidc.CustomFetch } : {}),
        timeout: Math.ceil((options.timeoutMs ?? 5000) / 1000),
      });
      metadata = config.serverMetadata();
    } catch (error) {
      throw new BridgeError('idp_unavailable', `Discovery of ${issuer} failed. Check RFC7591_ISSUER and that the IdP serves /.well-known/openid-configuration.`, { cause: error });
    }
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
        fetch: options.fetch,
        logger,
      });
    });
    tokens.catch(() => {
      tokens = undefined;
    });
    return tokens;
  }

  async function record(clientId: string): Promise<RegistrationRecord | undefined> {
    return store.get<RegistrationRecord>(clientId);
  }

  /** Sends an RFC 7592 request for a client the bridge registered, with its registration access token. */
  function manage(method: 'GET' | 'PUT' | 'DELETE', entry: RegistrationRecord, context: OperationContext, json?: ClientMetadata) {
    return http.request<ClientMetadata>(method, new URL(entry.registrationClientUri), {
      headers: { authorization: `Bearer ${entry.registrationAccessToken}` },
      json,
      signal: context.signal,
    });
  }

  async function managedRecord(clientId: string): Promise<RegistrationRecord> {
    const entry = await record(clientId);
    if (!entry) throw new BridgeError('not_found', `The bridge holds no registration for client ${clientId}, so it cannot manage it.`);
    return entry;
  }

  async function readClient(clientId: string, entry: RegistrationRecord, context: OperationContext): Promise<ClientMetadata> {
    const response = await manage('GET', entry, context);
    // RFC 7592 §2.1: an unknown client or a revoked token answers 401 (403 or 404 on some servers).
    if ([401, 403, 404].includes(response.status)) throw new BridgeError('not_found', `The IdP no longer knows client ${clientId}.`);
    if (!response.ok || typeof response.body !== 'object') throw http.errorFromResponse(response, `reading client ${clientId}`);
    return response.body;
  }

  async function writeClient(clientId: string, entry: RegistrationRecord, body: ClientMetadata, context: OperationContext): Promise<ClientMetadata> {
    const response = await manage('PUT', entry, context, body);
    if ([401, 403, 404].includes(response.status)) throw new BridgeError('not_found', `The IdP no longer knows client ${clientId}.`);
    const refused = registrationError(response);
    if (refused) throw refused;
    if (!response.ok || typeof response.body !== 'object') throw http.errorFromResponse(response, `updating client ${clientId}`);
    const token = response.body.registration_access_token;
    if (typeof token === 'string' && token !== entry.registrationAccessToken) {
      // RFC 7592 §2.2: the server may rotate the token on every update; the old one is dead already.
      await store.set<RegistrationRecord>(clientId, {
        registrationAccessToken: token,
        registrationClientUri: typeof response.body.registration_client_uri === 'string' ? response.body.registration_client_uri : entry.registrationClientUri,
      });
    }
    return response.body;
  }

  async function removeAtIdp(clientId: string, entry: RegistrationRecord, context: OperationContext): Promise<void> {
    const response = await manage('DELETE', entry, context);
    if (response.status === 204 || response.status === 200 || response.status === 401 || response.status === 404) return;
    throw http.errorFromResponse(response, `deleting client ${clientId}`);
  }

  return {
    id: 'rfc7591',
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: false },

    async createClient(registration, context) {
      const { registrationEndpoint, scopesSupported } = await resolveEndpoints();
      const unknownScopes = scopesSupported ? registration.scopes.filter((scope) => !scopesSupported.includes(scope)) : [];
      if (unknownScopes.length > 0) {
        throw new BridgeError('invalid_scope', `The IdP does not offer the scope${unknownScopes.length > 1 ? 's' : ''} ${unknownScopes.map((scope) => `"${scope}"`).join(', ')} (scopes_supported of its discovery document).`);
      }
      const token = await initialAccessToken();
      const response = await http.post<ClientMetadata>(new URL(registrationEndpoint), {
        json: registrationMetadata(registration),
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: context.signal,
      });
      const refused = registrationError(response);
      if (refused) throw refused;
      if (response.status === 401 || response.status === 403) {
        throw new BridgeError('idp_error', `The IdP refused the registration request (HTTP ${response.status}): check the initial access token settings (RFC7591_INITIAL_ACCESS_TOKEN or RFC7591_TOKEN_CLIENT_*).`);
      }
      if (!response.ok || typeof response.body !== 'object' || typeof response.body.client_id !== 'string') {
        throw http.errorFromResponse(response, 'registering a client');
      }
      const created = response.body;
      const clientId = created.client_id as string;
      const entry =
        typeof created.registration_client_uri === 'string' && typeof created.registration_access_token === 'string'
          ? { registrationClientUri: created.registration_client_uri, registrationAccessToken: created.registration_access_token }
          : undefined;
      if (!entry) {
        context.logger.error('registered client cannot be managed: delete it at the IdP by hand', { clientId });
        throw new BridgeError('idp_error', `The IdP registered client ${clientId} without RFC 7592 management (no registration_client_uri or registration_access_token), so the bridge could never rotate or delete it. Delete ${clientId} at the IdP and enable client management there.`);
      }
      try {
        if (typeof created.client_secret !== 'string' || created.client_secret === '') {
          throw new BridgeError('invalid_client_metadata', `The IdP issued no client secret for token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}".`);
        }
        await store.set<RegistrationRecord>(clientId, entry);
      } catch (error) {
        await removeAtIdp(clientId, entry, { ...context, signal: AbortSignal.timeout(5000) }).catch((cleanup: unknown) =>
          context.logger.error('could not remove a half-created client: delete it at the IdP by hand', { clientId, error: cleanup }),
        );
        throw error;
      }
      return {
        clientId,
        clientSecret: created.client_secret,
        clientIdIssuedAt: epochToDate(created.client_id_issued_at),
        clientSecretExpiresAt: epochToDate(created.client_secret_expires_at),
      };
    },

    async deleteClient(clientId, context) {
      const entry = await record(clientId);
      if (!entry) {
        context.logger.warn('delete of a client the bridge holds no registration for: nothing to do', { clientId });
        return;
      }
      await removeAtIdp(clientId, entry, context);
      await store.delete(clientId);
    },

    async rotateSecret(clientId, context) {
      const entry = await managedRecord(clientId);
      const current = await readClient(clientId, entry, context);
      const updated = await writeClient(clientId, (await record(clientId)) ?? entry, updateBody(current, {}, { keepSecret: false }), context);
      if (typeof updated.client_secret !== 'string' || updated.client_secret === '' || updated.client_secret === current.client_secret) {
        throw new BridgeError('unsupported_operation', 'This IdP did not issue a new client secret on an RFC 7592 update, so the bridge cannot rotate secrets here. Turn on "disable refresh secret" for this DCR provider in Konnect.');
      }
      return { clientId, clientSecret: updated.client_secret };
    },

    async applyEvent(clientId, event, context) {
      if (event.type !== 'update_application') return;
      const entry = await managedRecord(clientId);
      const current = await readClient(clientId, entry, context);
      const updated = await writeClient(clientId, (await record(clientId)) ?? entry, updateBody(current, { redirect_uris: event.redirectUris }, { keepSecret: true }), context);
      if (typeof updated.client_secret === 'string' && updated.client_secret !== current.client_secret) {
        context.logger.warn('the IdP issued a new secret while updating redirect URIs; the developer must refresh the secret in the portal', { clientId });
      }
    },

    async checkReady() {
      try {
        await resolveEndpoints();
        await initialAccessToken();
        await store.check();
        return { ready: true };
      } catch (error) {
        return { ready: false, detail: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
