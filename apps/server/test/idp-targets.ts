import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createFakeIdpKit, listenOnLoopback, type FakeIdpKit } from '@dcr-bridge/conformance';
import { startFakeAuthentik } from '../../../packages/adapter-authentik/test/fake-authentik.js';
import { startCognitoEnvironment } from '../../../packages/adapter-cognito/test/environment.js';
import { startFakeFusionauth } from '../../../packages/adapter-fusionauth/test/fake-fusionauth.js';
import { startFakeKeycloak, type FakeKeycloak } from '../../../packages/adapter-keycloak/test/fake-keycloak.js';
import { startOrg } from '../../../packages/adapter-okta/test/setup.js';
import { startFakePingFederate } from '../../../packages/adapter-pingfederate/test/fake-pingfederate.js';
import { startFakePingOne } from '../../../packages/adapter-pingone/test/fake-pingone.js';
import { startTestProvider } from '../../../packages/adapter-rfc7591/test/oidc-provider.js';
import { startFakeZitadel } from '../../../packages/adapter-zitadel/test/fake-zitadel.js';

/**
 * Every adapter's IdP (the fakes and servers of the adapters' own tests), started in the test process on
 * 127.0.0.1, with the settings that point a real server process at it and a backdoor to its state.
 */
export interface IdpTarget {
  /** The adapter's settings for the server process, DCR_BRIDGE_ADAPTER included. */
  env: Record<string, string>;
  /** Create-payload fields this IdP needs (scopes it has), merged into konnectApplication(). */
  application: Record<string, unknown>;
  countClients(): Promise<number>;
  clientExists(clientId: string): Promise<boolean>;
  canGetToken(clientId: string, secret: string): Promise<boolean>;
  /** The conformance kit's fault injection in front of the IdP; undefined where there is none. */
  faults: Pick<FakeIdpKit, 'injectFaults' | 'faultNext' | 'settle' | 'faults'> | undefined;
  /** Every request the IdP got, as `METHOD path?query` (the fake's own log), for counting round trips. */
  requests(): string[];
  /** The IdP request that creates a client (path without query), to aim faults at. */
  createPath: { method: string; path: RegExp };
  /**
   * Only where the IdP cannot be searched (rfc7591): every client it holds that was registered while the
   * target ran, with the name it was registered with (the name carries the create's nonce).
   */
  listClients?(): Promise<Array<{ clientId: string; clientName: string }>>;
  close(): Promise<void>;
}

/** `<PREFIX>_ALLOW_INSECURE_HTTP=true` where a fake listens on plain http (loopback), as an operator must say it. */
export function insecureHttp(prefix: string, url: string): Record<string, string> {
  return url.startsWith('http:') ? { [`${prefix}_ALLOW_INSECURE_HTTP`]: 'true' } : {};
}

/** The keycloak adapter's settings for a fake Keycloak. */
export function keycloakSettings(keycloak: FakeKeycloak): Record<string, string> {
  return {
    DCR_BRIDGE_ADAPTER: 'keycloak',
    KEYCLOAK_URL: keycloak.url,
    KEYCLOAK_REALM: keycloak.realm,
    KEYCLOAK_TOKEN_REALM: keycloak.admin.realm,
    KEYCLOAK_CLIENT_ID: keycloak.admin.clientId,
    KEYCLOAK_CLIENT_SECRET: keycloak.admin.clientSecret,
    ...insecureHttp('KEYCLOAK', keycloak.url),
  };
}

export type AdapterId = 'rfc7591' | 'keycloak' | 'okta' | 'pingone' | 'pingfederate' | 'cognito';

export const idpTargets: Record<AdapterId, () => Promise<IdpTarget>> = {
  async rfc7591() {
    const idp = await startTestProvider();
    const registered = new Map<string, string>();
    idp.provider.on('registration_create.success', (_ctx, client) => void registered.set(client.clientId, client.clientName ?? ''));
    const stored = async (clientId: string) => (await idp.storedClient(clientId)) !== undefined;
    return {
      env: {
        DCR_BRIDGE_ADAPTER: 'rfc7591',
        DCR_BRIDGE_STORE_KEY: randomBytes(32).toString('base64'),
        RFC7591_ISSUER: idp.issuer,
        RFC7591_INITIAL_ACCESS_TOKEN: await idp.rotatingInitialAccessToken(),
        RFC7591_ALLOW_INSECURE_HTTP: 'true',
      },
      application: {},
      countClients: async () => idp.countClients(),
      clientExists: stored,
      canGetToken: (clientId, secret) => idp.canGetToken(clientId, secret),
      faults: idp.faults,
      requests: () => idp.requests,
      createPath: { method: 'POST', path: /^\/reg$/ },
      async listClients() {
        const held = [];
        for (const [clientId, clientName] of registered) if (await stored(clientId)) held.push({ clientId, clientName });
        return held;
      },
      close: () => idp.close(),
    };
  },

  async keycloak() {
    const keycloak = await startFakeKeycloak();
    return {
      env: keycloakSettings(keycloak),
      application: { scopes: ['read:orders'] },
      countClients: async () => keycloak.clientCount(),
      clientExists: async (clientId) => keycloak.clientByClientId(clientId) !== undefined,
      canGetToken: async (clientId, secret) => (await keycloak.clientCredentials(clientId, secret)) !== undefined,
      faults: keycloak.faults,
      requests: () => keycloak.requests,
      createPath: { method: 'POST', path: /^\/admin\/realms\/[^/]+\/clients$/ },
      close: () => keycloak.close(),
    };
  },

  async okta() {
    const { okta, backdoor } = await startOrg();
    return {
      env: { DCR_BRIDGE_ADAPTER: 'okta', OKTA_DOMAIN: okta.url, OKTA_API_TOKEN: okta.apiToken, ...insecureHttp('OKTA', okta.url) },
      application: {},
      countClients: backdoor.countClients,
      clientExists: backdoor.clientExists,
      canGetToken: backdoor.canGetToken,
      faults: okta.faults,
      requests: () => okta.requests,
      createPath: { method: 'POST', path: /^\/api\/v1\/apps$/ },
      close: () => okta.close(),
    };
  },

  async pingone() {
    const p1 = await startFakePingOne();
    return {
      env: {
        DCR_BRIDGE_ADAPTER: 'pingone',
        PINGONE_ENVIRONMENT_ID: p1.environmentId,
        PINGONE_API_URL: p1.apiUrl,
        PINGONE_AUTH_URL: p1.authUrl,
        PINGONE_CLIENT_ID: p1.worker.clientId,
        PINGONE_CLIENT_SECRET: p1.worker.clientSecret,
        ...insecureHttp('PINGONE', p1.apiUrl),
      },
      application: { scopes: ['orders:read'] },
      countClients: async () => p1.appCount(),
      clientExists: async (clientId) => p1.app(clientId) !== undefined,
      canGetToken: (clientId, secret) => p1.clientCredentials(clientId, secret),
      faults: p1.faults,
      requests: () => p1.requests,
      createPath: { method: 'POST', path: /^\/v1\/environments\/[^/]+\/applications$/ },
      close: () => p1.close(),
    };
  },

  async pingfederate() {
    const pf = await startFakePingFederate();
    return {
      env: {
        DCR_BRIDGE_ADAPTER: 'pingfederate',
        PINGFEDERATE_ADMIN_URL: pf.adminUrl,
        PINGFEDERATE_ADMIN_USERNAME: pf.admin.username,
        PINGFEDERATE_ADMIN_PASSWORD: pf.admin.password,
        ...insecureHttp('PINGFEDERATE', pf.adminUrl),
      },
      application: { scopes: ['read:orders'] },
      countClients: async () => pf.clientCount(),
      clientExists: async (clientId) => pf.client(clientId) !== undefined,
      canGetToken: (clientId, secret) => pf.clientCredentials(clientId, secret),
      faults: pf.faults,
      requests: () => pf.requests,
      createPath: { method: 'POST', path: /^\/pf-admin-api\/v1\/oauth\/clients$/ },
      close: () => pf.close(),
    };
  },

  async cognito() {
    const cognito = await startCognitoEnvironment({ domain: 'konnect-developers' });
    // The Cognito proxy is not built on the fake kit: put one in front of it. Every Cognito action is a
    // POST to `/`, so the kit sees the action (X-Amz-Target) as the path, which lets faults aim at creates.
    const kit = createFakeIdpKit();
    const front = await listenOnLoopback((req, res) => {
      const upstream = `${cognito.proxy.url}${req.url ?? '/'}`;
      const action = req.headers['x-amz-target'];
      if (typeof action === 'string') req.url = `/${action.split('.').pop() ?? ''}`;
      kit.middleware(req, res, () => void forward(req, res, upstream));
    });
    return {
      env: {
        DCR_BRIDGE_ADAPTER: 'cognito',
        COGNITO_USER_POOL_ID: cognito.userPoolId,
        COGNITO_ENDPOINT: front.origin,
        ...insecureHttp('COGNITO', front.origin),
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      application: { scopes: ['orders/read'] },
      countClients: cognito.backdoor.countClients,
      clientExists: cognito.backdoor.clientExists,
      canGetToken: cognito.backdoor.canGetToken,
      faults: kit,
      requests: () => kit.requests,
      createPath: { method: 'POST', path: /^\/CreateUserPoolClient$/ },
      async close() {
        try {
          await front.close();
        } finally {
          await cognito.stop();
        }
      },
    };
  },
};

/**
 * The IdPs added after the server's own tests were written (issue 14), for `pnpm soak` only: the crash, doctor and
 * replica tests run over `idpTargets`; these adapters' conformance suites cover the rest in-process.
 */
export type SoakOnlyAdapterId = 'authentik' | 'fusionauth' | 'zitadel';

export const soakOnlyTargets: Record<SoakOnlyAdapterId, () => Promise<IdpTarget>> = {
  async authentik() {
    const idp = await startFakeAuthentik();
    return {
      env: {
        DCR_BRIDGE_ADAPTER: 'authentik',
        AUTHENTIK_URL: idp.url,
        AUTHENTIK_API_TOKEN: idp.apiToken,
        AUTHENTIK_AUTHORIZATION_FLOW: idp.flows.authorization,
        AUTHENTIK_INVALIDATION_FLOW: idp.flows.invalidation,
        ...insecureHttp('AUTHENTIK', idp.url),
      },
      application: {},
      countClients: async () => idp.clientCount() + idp.strayApplicationCount(),
      clientExists: async (clientId) => idp.client(clientId) !== undefined,
      canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
      faults: idp.faults,
      requests: () => idp.requests,
      createPath: { method: 'POST', path: /^\/api\/v3\/providers\/oauth2\/$/ },
      close: () => idp.close(),
    };
  },

  async fusionauth() {
    const idp = await startFakeFusionauth();
    return {
      env: {
        DCR_BRIDGE_ADAPTER: 'fusionauth',
        FUSIONAUTH_URL: idp.url,
        FUSIONAUTH_API_KEY: idp.apiKey,
        FUSIONAUTH_TENANT_ID: idp.tenantId,
        FUSIONAUTH_ENTITY_TYPE_ID: idp.entityTypeId,
        FUSIONAUTH_TARGET_ENTITY_ID: idp.targetEntityId,
        ...insecureHttp('FUSIONAUTH', idp.url),
      },
      application: { scopes: ['read:orders'] },
      countClients: async () => idp.entityCount(),
      clientExists: async (clientId) => idp.entity(clientId) !== undefined,
      canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
      faults: idp.faults,
      requests: () => idp.requests,
      createPath: { method: 'POST', path: /^\/api\/entity\/[^/]+$/ },
      close: () => idp.close(),
    };
  },

  async zitadel() {
    const idp = await startFakeZitadel();
    return {
      env: {
        DCR_BRIDGE_ADAPTER: 'zitadel',
        ZITADEL_URL: idp.url,
        ZITADEL_PROJECT_ID: idp.projectId,
        ZITADEL_ORGANIZATION_ID: idp.organizationId,
        ZITADEL_API_TOKEN: idp.apiToken,
        ...insecureHttp('ZITADEL', idp.url),
      },
      application: { redirect_uris: [] },
      countClients: async () => idp.clientCount(),
      clientExists: async (clientId) => idp.clientExists(clientId),
      canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
      faults: idp.faults,
      requests: () => idp.requests,
      createPath: { method: 'POST', path: /^\/zitadel\.user\.v2\.UserService\/CreateUser$/ },
      close: () => idp.close(),
    };
  },
};

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'content-encoding', 'expect']);

/** Passes one request on to `url` and its answer back; the answer always ends, so the kit's settle() does. */
async function forward(req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.entries(req.headers).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && !HOP_BY_HOP.has(entry[0]),
    );
    const answer = await fetch(url, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined });
    const body = Buffer.from(await answer.arrayBuffer());
    res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => !HOP_BY_HOP.has(name)))).end(body);
  } catch {
    if (res.headersSent) res.end();
    else res.writeHead(502).end();
  }
}
