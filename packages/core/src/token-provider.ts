import type * as oidc from 'openid-client';
import type { Dispatcher } from 'undici';
import { BridgeError, type BridgeErrorCode, type BridgeErrorOptions } from './errors.js';
import { fetchVia } from './idp-http/transport.js';
import type { AuthorizationSource } from './idp-http/types.js';
import { publish, secondsSince } from './instrumentation.js';
import { silentLogger, type Logger } from './logger.js';
import { userAgent } from './user-agent.js';

type OpenIdClient = typeof oidc;

/**
 * Admin tokens for the IdP's management API, obtained with the OAuth client_credentials grant through
 * openid-client. A token is cached until `refreshSkewSeconds` before it expires; concurrent callers share
 * one in-flight token request, so a burst of Konnect calls costs one token request per token lifetime.
 */
export interface TokenProvider {
  /**
   * A valid access token, from cache when possible. Rejects at once (`idp_timeout`) when `signal` is or
   * becomes aborted; a token request other callers share goes on for them, and its token is cached.
   */
  getToken(signal?: AbortSignal): Promise<string>;
  /** Forget `token` (the IdP refused it); the next getToken fetches a new one. */
  invalidate(token: string): void;
}

export type ClientAuthentication =
  | { method: 'client_secret_basic' | 'client_secret_post'; clientSecret: string }
  | {
      method: 'private_key_jwt';
      privateKey: oidc.CryptoKey;
      /** Key id put in the assertion header. */
      keyId?: string;
      /** `aud` of the client assertion; default the issuer (Okta wants the token endpoint URL). */
      audience?: string;
    };

export interface ClientCredentialsTokenOptions {
  /** Issuer identifier of the authorization server. */
  issuer: string;
  tokenEndpoint: string;
  clientId: string;
  auth: ClientAuthentication;
  /** Space-separated scopes to request. */
  scope?: string;
  /** Extra token request parameters (e.g. `audience`, `resource`). */
  parameters?: Record<string, string>;
  /** Refresh this long before expiry. Default 30 s. */
  refreshSkewSeconds?: number;
  /** Lifetime assumed when the token response has no expires_in. Default 60 s. */
  defaultLifetimeSeconds?: number;
  /** Seconds. Default 5. */
  timeoutSeconds?: number;
  idpName: string;
  /**
   * The adapter named in the User-Agent of token requests, `dcr-bridge/<version> (<adapterId>)`. Default: the
   * adapter whose operation asked for the token (see createIdpHttpClient's `adapterId`).
   */
  adapterId?: string;
  /** Where token requests go (a private CA's Agent, undici's MockAgent in tests); default Node's global dispatcher. */
  dispatcher?: Dispatcher;
  logger?: Logger;
  now?: () => number;
}

interface CachedToken {
  value: string;
  refreshAt: number;
}

export function createClientCredentialsTokenProvider(options: ClientCredentialsTokenOptions): TokenProvider {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const skewMs = (options.refreshSkewSeconds ?? 30) * 1000;
  // openid-client is loaded with the first token request, not at import: adapters without OAuth admin
  // credentials never load it, and the process starts faster.
  let configuring: Promise<{ client: OpenIdClient; config: oidc.Configuration }> | undefined;
  const configure = () =>
    (configuring ??= import('openid-client').then((client) => {
      const config = new client.Configuration(
        { issuer: options.issuer, token_endpoint: options.tokenEndpoint },
        options.clientId,
        undefined,
        clientAuth(client, options.auth),
      );
      config.timeout = options.timeoutSeconds ?? 5;
      // Through the dispatcher when one is given, with the bridge's User-Agent (openid-client sends its own otherwise).
      const send = options.dispatcher ? fetchVia(options.dispatcher) : fetch;
      config[client.customFetch] = (url, init) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(init.headers)) if (name.toLowerCase() !== 'user-agent') headers[name] = value;
        headers['user-agent'] = userAgent(options.adapterId);
        return send(url, { ...init, headers } as RequestInit);
      };
      if (new URL(options.tokenEndpoint).protocol === 'http:') client.allowInsecureRequests(config);
      return { client, config };
    }));

  let cached: CachedToken | undefined;
  let inFlight: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const params: Record<string, string> = { ...options.parameters };
    if (options.scope) params.scope = options.scope;
    const started = now();
    const timer = performance.now();
    const { client, config } = await configure();
    try {
      const response = await client.clientCredentialsGrant(config, params);
      publish.token({ idp: options.idpName, ok: true, seconds: secondsSince(timer) });
      const lifetimeMs = (response.expires_in ?? options.defaultLifetimeSeconds ?? 60) * 1000;
      cached = { value: response.access_token, refreshAt: started + Math.max(lifetimeMs - skewMs, lifetimeMs / 2) };
      logger.debug('admin token issued', { idp: options.idpName, expiresInSeconds: response.expires_in });
      return response.access_token;
    } catch (error) {
      publish.token({ idp: options.idpName, ok: false, seconds: secondsSince(timer) });
      throw tokenError(client, error, options);
    }
  }

  return {
    async getToken(signal) {
      if (signal?.aborted) throw abandoned(signal, options);
      if (cached && now() < cached.refreshAt) return cached.value;
      inFlight ??= fetchToken().finally(() => {
        inFlight = undefined;
      });
      return signal ? untilAborted(inFlight, signal, options) : inFlight;
    },
    invalidate(token) {
      if (cached?.value === token) cached = undefined;
    },
  };
}

/**
 * `shared`, or a rejection as soon as `signal` aborts. Only this caller stops waiting: the shared request is
 * not aborted, so the callers still waiting for it are not failed by one whose budget ran out, and its token
 * is cached for the next caller (the request itself is bounded by `timeoutSeconds`).
 */
function untilAborted(shared: Promise<string>, signal: AbortSignal, options: ClientCredentialsTokenOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abandoned(signal, options));
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function abandoned(signal: AbortSignal, options: ClientCredentialsTokenOptions): BridgeError {
  return new BridgeError('idp_timeout', `No admin token from ${tokenEndpointName(options)} within the request deadline.`, {
    cause: signal.reason,
  });
}

function tokenEndpointName(options: ClientCredentialsTokenOptions): string {
  return `the ${options.idpName} token endpoint (${new URL(options.tokenEndpoint).origin})`;
}

/** Presents a TokenProvider as `Authorization: Bearer …` for the IdP HTTP client. */
export function bearerAuthorization(provider: TokenProvider): AuthorizationSource {
  return {
    header: async (signal) => `Bearer ${await provider.getToken(signal)}`,
    rejected: (header) => provider.invalidate(header.slice('Bearer '.length)),
  };
}

/** A fixed Authorization header (Basic admin credentials, Okta's SSWS token). */
export function staticAuthorization(header: string): AuthorizationSource {
  return { header: async () => header };
}

export function basicAuthorization(username: string, password: string): AuthorizationSource {
  return staticAuthorization(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
}

function clientAuth(oidc: OpenIdClient, auth: ClientAuthentication): oidc.ClientAuth {
  switch (auth.method) {
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(auth.clientSecret);
    case 'client_secret_post':
      return oidc.ClientSecretPost(auth.clientSecret);
    case 'private_key_jwt':
      return oidc.PrivateKeyJwt(auth.keyId ? { key: auth.privateKey, kid: auth.keyId } : auth.privateKey, {
        [oidc.modifyAssertion]: (_header, payload) => {
          if (auth.audience) payload.aud = auth.audience;
        },
      });
  }
}

/**
 * How the token endpoint refused a token request: its HTTP status and, when its answer was an OAuth error response
 * (RFC 6749 §5.2), the error code in it (`invalid_client`, `invalid_scope`, …). A doctor tells causes apart by it.
 */
export interface TokenRefusal {
  status: number;
  oauthError?: string;
}

/**
 * The token endpoint's refusal behind an error `getToken` threw: an OAuth error answer, or an answer with a
 * WWW-Authenticate challenge (RFC 6749 §5.2: a 401 to a client that authenticated with Basic). Undefined for any
 * other error: no answer, an answer that is no OAuth response, the caller's deadline.
 */
export function tokenRefusal(error: unknown): TokenRefusal | undefined {
  return error instanceof TokenRequestError ? error.refusal : undefined;
}

/** A failed token request, with the token endpoint's refusal when it refused. */
class TokenRequestError extends BridgeError {
  constructor(
    code: BridgeErrorCode,
    description: string,
    readonly refusal: TokenRefusal | undefined,
    options: BridgeErrorOptions,
  ) {
    super(code, description, options);
  }
}

function refusalOf(oidc: OpenIdClient, error: unknown): TokenRefusal | undefined {
  if (error instanceof oidc.ResponseBodyError) return { status: error.status, oauthError: error.error };
  if (error instanceof oidc.WWWAuthenticateChallengeError) return { status: error.status };
  return undefined;
}

function tokenError(oidc: OpenIdClient, error: unknown, options: ClientCredentialsTokenOptions): BridgeError {
  const where = tokenEndpointName(options);
  const refused = refusalOf(oidc, error);
  const failure = (code: BridgeErrorCode, description: string, retryAfterSeconds?: number) =>
    new TokenRequestError(code, description, refused, { cause: error, retryAfterSeconds });
  // The token endpoint answered 429 (openid-client reports it as an OAuth error or as a non-conforming answer).
  const rateLimited = () => failure('idp_rate_limited', `${where} is rate-limiting the bridge's token requests.`, 1);
  if (refused) {
    const status = refused.status;
    if (status === 429) return rateLimited();
    if (status >= 500) return failure('idp_unavailable', `${where} answered HTTP ${status}.`);
    const words =
      error instanceof oidc.ResponseBodyError
        ? `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`
        : `HTTP ${status} with a WWW-Authenticate challenge`;
    // Each cause with its own remedy: a scope not granted is no credential problem, and a 404 is no token endpoint at all.
    if (refused.oauthError === 'invalid_scope')
      return failure(
        'idp_error',
        `${where} authenticated the bridge's admin client "${options.clientId}" but refused a scope it asked for (${words}). Grant the client that scope at the IdP.`,
      );
    if (status === 404)
      return failure(
        'idp_error',
        `${where} does not exist (HTTP 404, ${words}). Check the IdP URL and the realm, tenant or authorization server it names.`,
      );
    return failure(
      'idp_error',
      `${where} refused the bridge's admin client "${options.clientId}" (${words}). Check its credentials and that it may use client_credentials.`,
    );
  }
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return failure('idp_timeout', `${where} did not answer in time.`);
  }
  if (error instanceof oidc.ClientError && error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    const status = (error.cause as Response | undefined)?.status;
    if (status === 429) return rateLimited();
    return failure('idp_unavailable', `${where} gave an answer that is not an OAuth token response${status ? ` (HTTP ${status})` : ''}.`);
  }
  return failure('idp_unavailable', `Could not get an admin token from ${where}. Check the URL and the network path.`);
}
