import { randomBytes, randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { SignJWT, decodeJwt, jwtVerify } from 'jose';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type ApiDescription, type FakeIdpKit } from '@dcr-bridge/conformance';
import { checkAdminTraffic, createKeycloakApiDescription, KEYCLOAK_OPENAPI_VERSION } from './vendor/keycloak-api.js';

/**
 * A fake of Keycloak's token endpoint and admin REST API (the parts the adapter uses), written from
 * Keycloak's admin REST API documentation and its resource classes (ClientsResource, ClientResource,
 * ClientScopesResource, ProtocolMappersResource, ErrorResponse):
 * - admin paths take the internal UUID; `GET /clients?clientId=` is an exact match returning an array;
 * - create answers 201 with an empty body and a Location header ending in the UUID; a duplicate clientId
 *   answers 409 {"errorMessage":"Client X already exists"};
 * - create keeps the `secret` it carries and generates one otherwise (RepresentationToModel.createClient);
 *   reads of a confidential client carry its secret and its default and optional client scope names
 *   (ModelToRepresentation.toRepresentation);
 * - a new client gets the realm's default and optional client scopes of its protocol
 *   (AbstractLoginProtocolFactory.addDefaultClientScopes); `defaultClientScopes` / `optionalClientScopes` in
 *   the create first remove every scope the client has, then add the named ones, ignoring unknown names
 *   (RepresentationToModel.updateClientScopes); adding a scope skips one the client already has, default or
 *   optional, and one of another protocol (JpaRealmProvider.addClientScopes), also for
 *   `PUT …/default-client-scopes/{id}`; a PUT of the client never changes its scopes;
 * - `GET /default-default-client-scopes` and `/default-optional-client-scopes` list the realm's
 *   `{id, name, protocol}` (RealmAdminResource);
 * - a protocol mapper create keeps the `id` it carries (ClientAdapter.addProtocolMapper); a second mapper
 *   of the same name answers 409;
 * - `PUT /clients/{id}` applies only the fields the body carries (RepresentationToModel.updateClient sets
 *   each non-null field), `secret` included: a PUT that carries an old secret brings it back, and a PUT of
 *   `{secret}` alone sets the secret and nothing else;
 * - `GET /clients/{id}/client-secret` answers the current secret as a CredentialRepresentation
 *   `{type: "secret", value}` and, unlike other reads, needs manage-clients (ClientResource.getClientSecret:
 *   requireManage); `POST …/client-secret` generates a new one and answers it the same way
 *   (ClientResource.regenerateSecret); the token endpoint accepts the current secret only: the realm has no
 *   "secret-rotation" client policy (a preview feature, off by default), so no rotated secret is kept;
 * - unknown ids answer 404 {"error":"Could not find client"}; a missing or expired bearer token gets 401;
 * - a realm that does not exist: the token endpoint answers 404 {"error":"Realm does not exist"} (RealmsResource
 *   resolves the realm first: NotFoundException("Realm does not exist"), rendered by KeycloakErrorHandler), and the
 *   admin API 404 {"error":"Realm not found."} before any permission is looked at (RealmsAdminResource.getRealmAdmin);
 * - admin tokens are JWTs carrying the service account's roles with composites expanded
 *   (`resource_access["realm-management"].roles`, or `["<realm>-realm"]` for an admin client in master;
 *   RoleResolveUtil), and the admin API authorizes by the token's roles (MgmtPermissions builds its identity
 *   from the token): reads need view-clients or manage-clients, writes manage-clients, else 403; a role change
 *   applies to tokens issued after it. A lightweight access token (`lightweightAdminTokens`) carries neither
 *   `sub` nor roles, and Keycloak then resolves the roles from the session;
 * - client-scope names that do not exist are ignored by Keycloak (the adapter must check them itself);
 * - admin tokens live 300 s (the clock is controllable); client_credentials needs serviceAccountsEnabled;
 * - audience protocol mappers put their audience into the access tokens the client gets;
 * - `GET /admin/serverinfo` answers a ServerInfoRepresentation (AdminRoot.getServerInfo → ServerInfoAdminResource.getInfo)
 *   to an admin holding any admin role, else 403; its `systemInfo.version` is the `version` the fake models. Before 26.4.0
 *   every admin gets `systemInfo`; from 26.4.0 only admins of the administrator realm (master) do (keycloak#42828, PR
 *   #42859, Keycloak 26.4.0 upgrading notes: "The serverinfo endpoint only returns the system info for administrators in the
 *   administrator realm"); from 26.5.4 an admin of another realm holding manage-realm gets `systemInfo` with the version
 *   alone (PR #45903 / #45934, "Include version in system-info for manage-realm"; modelled from the PRs, not seen on a
 *   server). The answer is 200 either way; Keycloak's real one carries every provider and theme (about 1 MB).
 *
 * Every admin request the adapter sends and every answer the fake gives is checked against Keycloak's own OpenAPI
 * document, pinned in test/vendor with its exceptions (`api`); the tests assert that it found nothing.
 */
export interface FakeKeycloakOptions {
  realm?: string;
  adminRealm?: string;
  /** The realm's own client scopes (openid-connect, neither default nor optional), beside the built-in ones. */
  scopes?: string[];
  /** Where the server serves Keycloak (`/auth` on older servers). */
  pathPrefix?: string;
  /** The Keycloak version the fake models (`GET /admin/serverinfo`); default the pinned document's, 26.6.0. */
  version?: string;
  /** Where traffic problems are collected; default a new description of the pinned document. */
  api?: ApiDescription;
}

const versionParts = (version: string) => version.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
/** Whether `version` is before `than` (numeric parts; a qualifier such as `.redhat-00001` is ignored). */
export const versionBefore = (version: string, than: string): boolean => {
  const [a, b] = [versionParts(version).slice(0, 3), versionParts(than)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
};
/** Keycloak 26.4.0 stopped giving `systemInfo` to admins outside the administrator realm (see above). */
export const SYSTEM_INFO_ADMIN_REALM_ONLY_SINCE = '26.4.0';
/** Keycloak 26.5.4 gives the version back to realm admins holding manage-realm (see above). */
export const VERSION_FOR_MANAGE_REALM_SINCE = '26.5.4';
interface Client {
  rep: Record<string, unknown> & { id: string; clientId: string };
  secret: string;
  /** Client scope ids. */
  defaultScopes: Set<string>;
  optionalScopes: Set<string>;
  mappers: Array<Record<string, unknown> & { id: string; name: string }>;
}

interface ClientScope {
  id: string;
  name: string;
  protocol: string;
  attributes: Record<string, string>;
}

/** A new realm's client scopes (Keycloak 26): [name, protocol, realm default / optional, in the token's scope claim]. */
const BUILT_IN_SCOPES: Array<[string, string, 'default' | 'optional', boolean]> = [
  ['acr', 'openid-connect', 'default', false],
  ['basic', 'openid-connect', 'default', false],
  ['email', 'openid-connect', 'default', true],
  ['profile', 'openid-connect', 'default', true],
  ['roles', 'openid-connect', 'default', false],
  ['web-origins', 'openid-connect', 'default', false],
  ['role_list', 'saml', 'default', false],
  ['address', 'openid-connect', 'optional', true],
  ['phone', 'openid-connect', 'optional', true],
  ['offline_access', 'openid-connect', 'optional', true],
  ['microprofile-jwt', 'openid-connect', 'optional', true],
  ['organization', 'openid-connect', 'optional', true],
];

interface Token {
  clientId: string;
  realm: string;
  expiresAt: number;
  /** The management client's roles the token carries (expanded). */
  roles: string[];
}

/** The client roles of realm-management (and of each `<realm>-realm` client in master). */
const MANAGEMENT_ROLES = [
  'create-client',
  'impersonation',
  'manage-authorization',
  'manage-clients',
  'manage-events',
  'manage-identity-providers',
  'manage-realm',
  'manage-users',
  'query-clients',
  'query-groups',
  'query-realms',
  'query-users',
  'view-authorization',
  'view-clients',
  'view-events',
  'view-identity-providers',
  'view-realm',
  'view-users',
];
/** Composite roles as a new realm has them: realm-admin (realm-management) and master's `admin` realm role hold every management role. */
const COMPOSITES: Record<string, string[]> = {
  'realm-admin': MANAGEMENT_ROLES,
  admin: MANAGEMENT_ROLES,
  'view-clients': ['query-clients'],
  'view-users': ['query-users', 'query-groups'],
};
const expand = (roles: string[]): string[] => [...new Set(roles.flatMap((role) => [role, ...expand(COMPOSITES[role] ?? [])]))].sort();

export interface FakeKeycloak {
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  url: string;
  realm: string;
  /** The Keycloak version `GET /admin/serverinfo` tells. */
  version: string;
  /** The pinned API description every admin request and answer is checked against. */
  api: ApiDescription;
  admin: { realm: string; clientId: string; clientSecret: string };
  /** Seconds added to the fake's clock (token expiry). */
  advanceClock(seconds: number): void;
  /**
   * The roles of the admin's service account: client roles of the management client (`manage-clients`,
   * `view-clients`, `realm-admin`…) or master's `admin` realm role. Tokens issued from now on carry them;
   * default `['manage-clients']`.
   */
  setAdminRoles(roles: string[]): void;
  /** Admin tokens issued from now on are lightweight (no `sub`, no roles). */
  setLightweightAdminTokens(lightweight: boolean): void;
  /** The management client whose roles the admin token carries. */
  managementClient: string;
  /** The next request matching method and path pattern answers this status and body, once. */
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Raw request lines as received: "METHOD /path?query". */
  requests: string[];
  /** The field names of every `PUT /clients/{id}` body the client received, oldest first (what a write carried). */
  putFields(clientId: string): string[][];
  tokenRequests: (clientId: string) => number;
  clientByClientId(clientId: string): Client | undefined;
  /** The names of a client's default and optional client scopes, sorted. */
  clientScopes(clientId: string): { defaultScopes: string[]; optionalScopes: string[] } | undefined;
  /** The realm's default and optional client scopes of the openid-connect protocol (what a client made in the console gets), sorted. */
  realmScopes(): { defaultScopes: string[]; optionalScopes: string[] };
  clientCount(): number;
  /** Changes fields of a client's representation directly, as an administrator would in the console. */
  editClient(clientId: string, fields: Record<string, unknown>): void;
  /** Creates a client directly, as an administrator would in the console (no bridge marker). */
  createForeignClient(): string;
  /** client_credentials at the realm's token endpoint; the access token, or undefined when refused. */
  clientCredentials(clientId: string, clientSecret: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startFakeKeycloak(options: FakeKeycloakOptions = {}): Promise<FakeKeycloak> {
  const realm = options.realm ?? 'customers';
  const prefix = options.pathPrefix ?? '';
  const version = options.version ?? KEYCLOAK_OPENAPI_VERSION;
  const api = options.api ?? createKeycloakApiDescription(prefix);
  const admin = { realm: options.adminRealm ?? 'master', clientId: 'dcr-bridge', clientSecret: randomBytes(24).toString('base64url') };
  const signingKey = randomBytes(32);
  const clients = new Map<string, Client>();
  const realmDefaults = new Map<string, 'default' | 'optional'>();
  const scopes: ClientScope[] = [
    ...BUILT_IN_SCOPES.map(([name, protocol, kind, inToken]) => {
      const scope = { id: randomUUID(), name, protocol, attributes: { 'include.in.token.scope': String(inToken) } };
      realmDefaults.set(scope.id, kind);
      return scope;
    }),
    ...(options.scopes ?? ['read:orders', 'write:orders']).map((name) => ({
      id: randomUUID(),
      name,
      protocol: 'openid-connect',
      attributes: { 'include.in.token.scope': 'true' },
    })),
  ];
  const protocolOf = (client: Client) => (typeof client.rep.protocol === 'string' ? client.rep.protocol : 'openid-connect');
  /** JpaRealmProvider.addClientScopes: skips what the client has already (default or optional) and other protocols. */
  const addClientScopes = (client: Client, added: ClientScope[], asDefault: boolean) => {
    for (const scope of added) {
      if (client.defaultScopes.has(scope.id) || client.optionalScopes.has(scope.id) || scope.protocol !== protocolOf(client)) continue;
      (asDefault ? client.defaultScopes : client.optionalScopes).add(scope.id);
    }
  };
  const byNames = (names: unknown) => (Array.isArray(names) ? names : []).flatMap((name) => scopes.filter((scope) => scope.name === name));
  const realmScopesOf = (kind: 'default' | 'optional') => scopes.filter((scope) => realmDefaults.get(scope.id) === kind);
  const scopeNames = (ids: Set<string>) =>
    scopes
      .filter((scope) => ids.has(scope.id))
      .map((scope) => scope.name)
      .sort();
  /** What the admin API answers for a client (ModelToRepresentation.toRepresentation). */
  const representation = (client: Client) => ({
    ...client.rep,
    ...(client.rep.publicClient === true ? {} : { secret: client.secret }),
    defaultClientScopes: scopeNames(client.defaultScopes),
    optionalClientScopes: scopeNames(client.optionalScopes),
  });
  /** Field names of each PUT of a client, by internal id. */
  const puts = new Map<string, string[][]>();
  const tokens = new Map<string, Token>();
  const tokenRequestCounts = new Map<string, number>();
  const kit = createFakeIdpKit();
  let clockOffset = 0;
  let adminRoles = ['manage-clients'];
  let lightweight = false;
  const managementClient = admin.realm === realm ? 'realm-management' : `${realm}-realm`;
  const adminUserId = randomUUID();
  const now = () => Date.now() + clockOffset * 1000;

  const app = express();
  const router = express.Router();
  app.use(kit.middleware);
  // After the kit: a failure a test injects is the test's, not Keycloak's answer.
  app.use(express.json(), checkAdminTraffic(api, prefix));
  app.use(prefix || '/', router);

  router.post('/realms/:realm/protocol/openid-connect/token', express.urlencoded({ extended: false }), async (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret: secret } = clientCredentials(req.get('authorization'), form);
    if (form.grant_type !== 'client_credentials')
      return res.status(400).json({ error: 'unsupported_grant_type', error_description: 'Unsupported grant_type' });
    tokenRequestCounts.set(clientId, (tokenRequestCounts.get(clientId) ?? 0) + 1);
    // RealmsResource resolves the realm before any protocol endpoint: an unknown one is a NotFoundException("Realm does
    // not exist"), which KeycloakErrorHandler answers 404 {"error":"Realm does not exist"} (JSON, whatever the client).
    if (req.params.realm !== admin.realm && req.params.realm !== realm) return res.status(404).json({ error: 'Realm does not exist' });
    const refuse = () =>
      res.status(401).json({ error: 'unauthorized_client', error_description: 'Invalid client or Invalid client credentials' });
    if (req.params.realm === admin.realm && clientId === admin.clientId) {
      if (secret !== admin.clientSecret) return refuse();
      const roles = expand(adminRoles).filter((role) => role !== 'admin');
      const claims = lightweight
        ? { azp: clientId, scope: 'profile email' }
        : {
            sub: adminUserId,
            azp: clientId,
            scope: 'profile email',
            realm_access: { roles: adminRoles.filter((role) => role === 'admin') },
            resource_access: roles.length > 0 ? { [managementClient]: { roles } } : {},
          };
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(`${prefix}/realms/${admin.realm}`)
        .setExpirationTime('300s')
        .setIssuedAt()
        .setJti(randomUUID())
        .sign(signingKey);
      tokens.set(token, { clientId, realm: admin.realm, expiresAt: now() + 300_000, roles });
      return res.json({
        access_token: token,
        expires_in: 300,
        refresh_expires_in: 0,
        token_type: 'Bearer',
        'not-before-policy': 0,
        scope: 'profile email',
      });
    }
    if (req.params.realm !== realm) return refuse();
    const client = [...clients.values()].find((candidate) => candidate.rep.clientId === clientId);
    if (!client || client.rep.enabled === false) return refuse();
    if (client.rep.clientAuthenticatorType === 'client-secret-jwt') {
      const assertion = form.client_assertion;
      try {
        if (!assertion) throw new Error('no assertion');
        await jwtVerify(assertion, new TextEncoder().encode(client.secret), { issuer: clientId, subject: clientId });
      } catch {
        return refuse();
      }
    } else if (secret !== client.secret) {
      return refuse();
    }
    if (!client.rep.serviceAccountsEnabled)
      return res.status(401).json({ error: 'unauthorized_client', error_description: 'Client not enabled to retrieve service account' });
    const audiences = client.mappers
      .filter((mapper) => mapper.protocolMapper === 'oidc-audience-mapper')
      .map((mapper) => (mapper.config as Record<string, string>)['included.custom.audience'])
      .filter((audience): audience is string => typeof audience === 'string');
    const inScopeClaim = scopes.filter(
      (scope) => client.defaultScopes.has(scope.id) && scope.attributes['include.in.token.scope'] !== 'false',
    );
    const token = await new SignJWT({ azp: clientId, scope: inScopeClaim.map((scope) => scope.name).join(' ') })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(`${prefix}/realms/${realm}`)
      .setAudience(audiences.length > 0 ? audiences : ['account'])
      .setExpirationTime('300s')
      .sign(signingKey);
    res.json({ access_token: token, expires_in: 300, token_type: 'Bearer' });
  });

  const requireAdmin = (req: Request, res: Response, next: NextFunction) => {
    const bearer = req.get('authorization')?.match(/^Bearer (.+)$/)?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt <= now()) return void res.status(401).json({ error: 'HTTP 401 Unauthorized' });
    // RealmsAdminResource.getRealmAdmin looks the realm up before any permission is evaluated: an unknown realm is
    // 404 NotFoundException("Realm not found.") whatever roles the token carries.
    if (req.params.realm !== realm) return void res.status(404).json({ error: 'Realm not found.' });
    // ClientResource.getClientSecret asks requireManage: reading a secret is a manage-clients right.
    const read = req.method === 'GET' && !/\/client-secret(\/rotated)?$/.test(req.path);
    const allowed = read
      ? token.roles.includes('view-clients') || token.roles.includes('manage-clients')
      : token.roles.includes('manage-clients');
    if (!allowed) return void res.status(403).json({ error: 'HTTP 403 Forbidden' });
    next();
  };
  const startedAt = Date.now();
  router.get('/admin/serverinfo', (req, res) => {
    const bearer = req.get('authorization')?.match(/^Bearer (.+)$/)?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt <= now()) return void res.status(401).json({ error: 'HTTP 401 Unauthorized' });
    // AdminRoot.getServerInfo: an admin is anyone holding an admin role of some realm.
    if (token.roles.length === 0) return void res.status(403).json({ error: 'HTTP 403 Forbidden' });
    const uptimeMillis = now() - startedAt;
    const full = {
      version,
      serverTime: new Date(now()).toString(),
      uptime: `0 days, 0 hours, 0 minutes, ${Math.floor(uptimeMillis / 1000)} seconds`,
      uptimeMillis,
      javaVersion: '21.0.8',
      javaVendor: 'Red Hat, Inc.',
      osName: 'Linux',
      osArchitecture: 'amd64',
      fileEncoding: 'UTF-8',
      userTimezone: 'UTC',
    };
    const inAdminRealm = token.realm === 'master';
    const systemInfo = versionBefore(version, SYSTEM_INFO_ADMIN_REALM_ONLY_SINCE)
      ? full
      : inAdminRealm
        ? full
        : !versionBefore(version, VERSION_FOR_MANAGE_REALM_SINCE) && token.roles.includes('manage-realm')
          ? { version }
          : undefined;
    res.json({
      ...(systemInfo ? { systemInfo } : {}),
      profileInfo: { name: 'community', disabledFeatures: [], previewFeatures: [], experimentalFeatures: [] },
      features: [],
      themes: { login: [{ name: 'keycloak.v2', locales: ['en'] }] },
      providers: {},
      enums: { operationType: ['CREATE', 'UPDATE', 'DELETE', 'ACTION'] },
    });
  });

  const admin_ = express.Router({ mergeParams: true });
  router.use('/admin/realms/:realm', requireAdmin, express.json(), admin_);
  const byId = (req: Request, res: Response): Client | undefined => {
    const client = clients.get(String(req.params.id));
    if (!client) res.status(404).json({ error: 'Could not find client' });
    return client;
  };

  admin_.get('/clients', (req, res) => {
    const wanted = req.query.clientId as string | undefined;
    const search = req.query.search === 'true';
    let list = [...clients.values()].map(representation);
    if (wanted !== undefined) list = list.filter((rep) => (search ? rep.clientId.includes(wanted) : rep.clientId === wanted));
    const first = Number(req.query.first ?? 0);
    const max = req.query.max === undefined ? list.length : Number(req.query.max);
    res.json(list.slice(first, first + max));
  });
  admin_.post('/clients', (req, res) => {
    const { secret, defaultClientScopes, optionalClientScopes, ...rep } = req.body as Client['rep'] & {
      secret?: unknown;
      defaultClientScopes?: unknown;
      optionalClientScopes?: unknown;
    };
    if (typeof rep.clientId !== 'string' || rep.clientId === '') return res.status(400).json({ errorMessage: 'Client id is missing' });
    if ([...clients.values()].some((client) => client.rep.clientId === rep.clientId))
      return res.status(409).json({ errorMessage: `Client ${rep.clientId} already exists` });
    for (const uri of (rep.redirectUris as string[] | undefined) ?? []) {
      try {
        new URL(uri);
      } catch {
        return res.status(400).json({ error: 'invalid_input', error_description: 'A redirect URI is not a valid URI' });
      }
    }
    const id = randomUUID();
    const client: Client = {
      rep: { ...rep, id },
      secret: typeof secret === 'string' ? secret : randomBytes(24).toString('base64url'),
      defaultScopes: new Set(),
      optionalScopes: new Set(),
      mappers: [],
    };
    addClientScopes(client, realmScopesOf('default'), true);
    addClientScopes(client, realmScopesOf('optional'), false);
    if ([defaultClientScopes, optionalClientScopes].some((list) => list !== undefined && list !== null)) {
      client.defaultScopes.clear();
      client.optionalScopes.clear();
      addClientScopes(client, byNames(defaultClientScopes), true);
      addClientScopes(client, byNames(optionalClientScopes), false);
    }
    clients.set(id, client);
    res
      .status(201)
      .location(`${req.protocol}://${req.get('host')}${prefix}/admin/realms/${realm}/clients/${id}`)
      .end();
  });
  admin_.get('/clients/:id', (req, res) => {
    const client = byId(req, res);
    if (client) res.json(representation(client));
  });
  admin_.put('/clients/:id', (req, res) => {
    const client = byId(req, res);
    if (!client) return;
    // ClientResource.update: scopes are never changed by a PUT of the client.
    const {
      secret,
      defaultClientScopes: _default,
      optionalClientScopes: _optional,
      ...fields
    } = req.body as Client['rep'] & { secret?: unknown; defaultClientScopes?: unknown; optionalClientScopes?: unknown };
    puts.set(client.rep.id, [...(puts.get(client.rep.id) ?? []), Object.keys(req.body as object)]);
    const present = Object.entries(fields).filter(([, value]) => value !== null && value !== undefined);
    client.rep = { ...client.rep, ...Object.fromEntries(present), id: client.rep.id };
    if (typeof secret === 'string') client.secret = secret;
    res.status(204).end();
  });
  admin_.delete('/clients/:id', (req, res) => {
    if (!byId(req, res)) return;
    clients.delete(String(req.params.id));
    res.status(204).end();
  });
  admin_.get('/clients/:id/client-secret', (req, res) => {
    const client = byId(req, res);
    if (client) res.json({ type: 'secret', value: client.secret });
  });
  admin_.post('/clients/:id/client-secret', (req, res) => {
    const client = byId(req, res);
    if (!client) return;
    client.secret = randomBytes(24).toString('base64url');
    res.json({ type: 'secret', value: client.secret });
  });
  admin_.get('/client-scopes', (_req, res) => void res.json(scopes));
  admin_.get(
    '/default-default-client-scopes',
    (_req, res) => void res.json(realmScopesOf('default').map(({ id, name, protocol }) => ({ id, name, protocol }))),
  );
  admin_.get(
    '/default-optional-client-scopes',
    (_req, res) => void res.json(realmScopesOf('optional').map(({ id, name, protocol }) => ({ id, name, protocol }))),
  );
  admin_.put('/clients/:id/default-client-scopes/:scopeId', (req, res) => {
    const client = byId(req, res);
    if (!client) return;
    const scope = scopes.find((candidate) => candidate.id === req.params.scopeId);
    if (!scope) return res.status(404).json({ error: 'Client scope not found' });
    addClientScopes(client, [scope], true);
    res.status(204).end();
  });
  admin_.get('/clients/:id/protocol-mappers/models', (req, res) => {
    const client = byId(req, res);
    if (client) res.json(client.mappers);
  });
  admin_.post('/clients/:id/protocol-mappers/models', (req, res) => {
    const client = byId(req, res);
    if (!client) return;
    const mapper = req.body as ProtocolMapperBody;
    if (client.mappers.some((existing) => existing.name === mapper.name))
      return res.status(409).json({ errorMessage: `Protocol mapper exists with same name` });
    const id = typeof mapper.id === 'string' ? mapper.id : randomUUID();
    client.mappers.push({ ...mapper, id });
    res
      .status(201)
      .location(
        `${req.protocol}://${req.get('host')}${prefix}/admin/realms/${realm}/clients/${client.rep.id}/protocol-mappers/models/${id}`,
      )
      .end();
  });
  admin_.delete('/clients/:id/protocol-mappers/models/:mapperId', (req, res) => {
    const client = byId(req, res);
    if (!client) return;
    const before = client.mappers.length;
    client.mappers = client.mappers.filter((mapper) => mapper.id !== req.params.mapperId);
    if (client.mappers.length === before) return res.status(404).json({ error: 'Model not found' });
    res.status(204).end();
  });
  router.use(
    (req, res) => void res.status(404).json({ error: 'RESTEASY003210: Could not find resource for full path: ' + req.originalUrl }),
  );

  const server = await listenOnLoopback(app);
  const url = `${server.origin}${prefix}`;

  return {
    url,
    realm,
    version,
    api,
    admin,
    requests: kit.requests,
    putFields(clientId) {
      const client = [...clients.values()].find((candidate) => candidate.rep.clientId === clientId);
      return (client && puts.get(client.rep.id)) ?? [];
    },
    faults: kit,
    advanceClock: (seconds) => void (clockOffset += seconds),
    setAdminRoles: (roles) => void (adminRoles = roles),
    setLightweightAdminTokens: (value) => void (lightweight = value),
    managementClient,
    failNext: kit.failNext,
    tokenRequests: (clientId) => tokenRequestCounts.get(clientId) ?? 0,
    clientByClientId: (clientId) => [...clients.values()].find((client) => client.rep.clientId === clientId),
    clientScopes(clientId) {
      const client = [...clients.values()].find((candidate) => candidate.rep.clientId === clientId);
      return client && { defaultScopes: scopeNames(client.defaultScopes), optionalScopes: scopeNames(client.optionalScopes) };
    },
    realmScopes: () => ({
      defaultScopes: realmScopesOf('default')
        .filter((scope) => scope.protocol === 'openid-connect')
        .map((scope) => scope.name)
        .sort(),
      optionalScopes: realmScopesOf('optional')
        .filter((scope) => scope.protocol === 'openid-connect')
        .map((scope) => scope.name)
        .sort(),
    }),
    clientCount: () => clients.size,
    editClient(clientId, fields) {
      const client = [...clients.values()].find((candidate) => candidate.rep.clientId === clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      client.rep = { ...client.rep, ...fields };
    },
    createForeignClient() {
      const id = randomUUID();
      const clientId = `console-made-${id.slice(0, 8)}`;
      clients.set(id, {
        rep: {
          id,
          clientId,
          enabled: true,
          publicClient: false,
          serviceAccountsEnabled: true,
          redirectUris: ['https://foreign.example.com/cb'],
          attributes: {},
        },
        secret: 'foreign-secret',
        defaultScopes: new Set(),
        optionalScopes: new Set(),
        mappers: [],
      });
      return clientId;
    },
    async clientCredentials(clientId, clientSecret) {
      const res = await fetch(`${url}/realms/${realm}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      });
      return res.ok ? ((await res.json()) as { access_token: string }).access_token : undefined;
    },
    close: server.close,
  };
}

type ProtocolMapperBody = Record<string, unknown> & { name: string; id?: unknown };

/** The audiences of an access token the fake issued. */
export function tokenAudiences(token: string): string[] {
  const { aud } = decodeJwt(token);
  return Array.isArray(aud) ? aud : aud ? [aud] : [];
}
