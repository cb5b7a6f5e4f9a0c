import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import Provider from 'oidc-provider';
import { createApiDescription, createFakeIdpKit, type FakeIdpKit, type OpenApiDocument } from '@dcr-bridge/conformance';
import rfc7591 from './vendor/rfc7591-rfc7592.openapi.json' with { type: 'json' };

/**
 * RFC 7591 / RFC 7592 as a small OpenAPI document (test/vendor/): every registration, read, update and delete
 * the provider receives, and every answer it gives, is checked against it. One per test file (vitest isolates
 * modules per file); each file asserts at the end that it found no problem.
 */
export const registrationApi = createApiDescription({
  name: 'RFC 7591 / RFC 7592 (test/vendor/rfc7591-rfc7592.openapi.json)',
  document: rfc7591 as unknown as OpenApiDocument,
  basePath: '',
});

/**
 * A real OpenID Provider (panva/oidc-provider, OpenID Certified) on 127.0.0.1 for the tests:
 * registration with initial access tokens, RFC 7592 management (registration access token rotated on
 * every update, the default), client_credentials, and a registration policy that issues a new
 * client_secret when an update omits it (how the bridge asks for a rotation).
 */
type Payload = Record<string, unknown>;

/** oidc-provider storage in Maps, so tests can count clients (its default memory adapter hides them). */
class MapAdapter {
  static stores = new Map<string, Map<string, Payload>>();
  private store: Map<string, Payload>;
  constructor(name: string) {
    this.store = MapAdapter.stores.get(name) ?? new Map();
    MapAdapter.stores.set(name, this.store);
  }
  async upsert(id: string, payload: Payload) {
    this.store.set(id, payload);
  }
  async find(id: string) {
    return this.store.get(id);
  }
  async findByUid(uid: string) {
    return [...this.store.values()].find((payload) => payload.uid === uid);
  }
  async findByUserCode(code: string) {
    return [...this.store.values()].find((payload) => payload.userCode === code);
  }
  async consume(id: string) {
    const payload = this.store.get(id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    this.store.delete(id);
  }
  async revokeByGrantId(grantId: string) {
    for (const [id, payload] of this.store) if (payload.grantId === grantId) this.store.delete(id);
  }
}

export interface TestProvider {
  issuer: string;
  registrationEndpoint: string;
  tokenEndpoint: string;
  provider: Provider;
  /** An initial access token whose clients get a new secret when an update omits client_secret. */
  rotatingInitialAccessToken(): Promise<string>;
  /** An initial access token without that policy (a server that never rotates on update). */
  plainInitialAccessToken(): Promise<string>;
  /** The admin client allowed to get registration tokens by client_credentials (scope `dcr`). */
  admin: { clientId: string; clientSecret: string };
  /** Client metadata as the provider stores it, or undefined. */
  storedClient(clientId: string): Promise<Payload | undefined>;
  /** Changes client metadata in the provider's storage, as an operator of the IdP would (not through RFC 7592). */
  setStoredMetadata(clientId: string, metadata: Payload): void;
  countClients(): number;
  canGetToken(clientId: string, clientSecret: string): Promise<boolean>;
  /** Requests (method + path) the provider received. */
  requests: string[];
  /** Faults injected in front of the provider (the conformance kit): lost, late and refused answers. */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  close(): Promise<void>;
}

/** What a provider turns off, for the doctor's tests: registration, or the client_credentials grant. */
export interface TestProviderOptions {
  registration?: boolean;
  clientCredentials?: boolean;
}

export async function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  const registration = options.registration ?? true;
  const clientCredentials = options.clientCredentials ?? true;
  const clientStore = `Client-${randomBytes(4).toString('hex')}`;
  let handler: RequestListener = (_req, res) => res.end();
  const kit = createFakeIdpKit();
  const server: Server = createServer((req, res) => kit.middleware(req, res, () => handler(req, res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = { clientId: 'bridge-admin', clientSecret: randomBytes(24).toString('base64url') };

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test', alg: 'RS256', use: 'sig' }] },
    adapter: (name: string) => new MapAdapter(name === 'Client' ? clientStore : `${name}-${clientStore}`),
    // The admin client exists only where its grant does (oidc-provider refuses a client with a disabled grant).
    clients: clientCredentials
      ? [
          {
            client_id: admin.clientId,
            client_secret: admin.clientSecret,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            scope: 'dcr',
          },
        ]
      : [],
    scopes: ['openid', 'offline_access', 'dcr', 'read', 'write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: clientCredentials },
      registration: {
        enabled: registration,
        initialAccessToken: true,
        policies: {
          'rotate-secret-on-update': (ctx, properties) => {
            // Runs on create and update; ctx.oidc.client is only set on update.
            if (ctx.oidc.client && !('client_secret' in (ctx.oidc.body as Payload))) {
              properties.client_secret = randomBytes(32).toString('base64url');
            }
          },
        },
      },
      registrationManagement: { enabled: registration, rotateRegistrationAccessToken: true },
    },
  });
  // The registration endpoint and RFC 7592's client configuration endpoint, checked as they are answered.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/reg' && !ctx.path.startsWith('/reg/')) return;
    const sent = ctx.method === 'POST' || ctx.method === 'PUT' ? (ctx.oidc as { body?: unknown } | undefined)?.body : undefined;
    registrationApi.checkRequest(ctx.method, ctx.path, sent);
    registrationApi.checkResponse(ctx.method, ctx.path, ctx.status, ctx.body === null ? undefined : ctx.body);
  });
  // IdPs such as Keycloak and Curity accept an access token with a registration scope as the initial
  // access token; this middleware gives oidc-provider the same behaviour for the client_credentials mode.
  provider.use(async (ctx, next) => {
    const bearer = ctx.get('authorization').match(/^Bearer (.+)$/)?.[1];
    if (ctx.method === 'POST' && ctx.path === '/reg' && bearer) {
      const token = await provider.ClientCredentials.find(bearer);
      if (
        token &&
        String(token.scope ?? '')
          .split(' ')
          .includes('dcr')
      ) {
        ctx.req.headers.authorization = `Bearer ${await new provider.InitialAccessToken({ policies: ['rotate-secret-on-update'] }).save()}`;
      }
    }
    await next();
  });
  handler = provider.callback();

  const clients = () => MapAdapter.stores.get(clientStore) ?? new Map<string, Payload>();
  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    registrationEndpoint: `${issuer}/reg`,
    tokenEndpoint,
    provider,
    admin,
    requests: kit.requests,
    faults: kit,
    rotatingInitialAccessToken: () => new provider.InitialAccessToken({ policies: ['rotate-secret-on-update'] }).save(),
    plainInitialAccessToken: () => new provider.InitialAccessToken({}).save(),
    storedClient: async (clientId) => clients().get(clientId),
    setStoredMetadata(clientId, metadata) {
      const stored = clients().get(clientId);
      if (!stored) throw new Error(`no client ${clientId}`);
      clients().set(clientId, { ...stored, ...metadata });
    },
    countClients: () => clients().size,
    async canGetToken(clientId, clientSecret) {
      const stored = clients().get(clientId);
      const method =
        stored?.token_endpoint_auth_method === 'client_secret_basic'
          ? oidc.ClientSecretBasic(clientSecret)
          : oidc.ClientSecretPost(clientSecret);
      const config = new oidc.Configuration({ issuer, token_endpoint: tokenEndpoint }, clientId, undefined, method);
      oidc.allowInsecureRequests(config);
      try {
        const tokens = await oidc.clientCredentialsGrant(config);
        return typeof tokens.access_token === 'string';
      } catch (error) {
        // client_secret_post failures answer a 400/401 body; client_secret_basic ones a WWW-Authenticate challenge.
        if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_client') return false;
        if (error instanceof oidc.WWWAuthenticateChallengeError && error.status === 401) return false;
        throw error;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
