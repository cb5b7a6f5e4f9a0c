import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  clientCredentials,
  createApiDescription,
  createFakeIdpKit,
  listenOnLoopback,
  type ApiDescription,
  type FakeIdpKit,
  type OpenApiDocument,
} from '@dcr-bridge/conformance';

/** ZITADEL's v2 services as the adapter uses them, cut from its protos (test/vendor/README.md). */
export const zitadelDocument = JSON.parse(
  readFileSync(new URL('./vendor/zitadel-v4.openapi.json', import.meta.url), 'utf8'),
) as OpenApiDocument;

/**
 * The ZITADEL generations the fake models (README, "Supported versions"):
 * - `v4.5`: the v2 ApplicationService without ListApplications' client id filter (a filter carrying only
 *   `clientIdFilter` is empty once the unknown field is dropped, and ZITADEL's validator refuses it), and
 *   applications without `projectId`;
 * - `current`: the filter and `projectId` of zitadel/zitadel#11385 (2026, backported to v4.x).
 */
export type ZitadelGeneration = 'v4.5' | 'current';

export interface FakeZitadelOptions {
  generation?: ZitadelGeneration;
  /** What GetInstance reports as `instance.version`; default v4.5.0 or v4.11.0 by generation. */
  version?: string;
  /** Whether the bridge's token may read the instance (`iam.read`); ZITADEL's least-privilege setup does not. Default false. */
  tokenReadsInstance?: boolean;
}

/**
 * A fake of ZITADEL's v2 ApplicationService (Connect protocol, JSON) and its token endpoint, written from
 * proto/zitadel/application/v2/*.proto and internal/api/oidc/client_credentials.go of zitadel/zitadel
 * (README, "Facts"):
 * - every method is `POST /zitadel.application.v2.ApplicationService/<Method>` with a protobuf-JSON body;
 *   errors are Connect errors `{code, message}` with the HTTP status of the code (unauthenticated 401,
 *   permission_denied 403, not_found 404, invalid_argument 400, already_exists 409, resource_exhausted 429);
 * - requests need `Authorization: Bearer <personal access token>`;
 * - ids are generated numeric strings; CreateApplication takes an optional `applicationId` of the caller's
 *   and generates the OIDC `clientId` (numeric) and, for BASIC and POST auth methods, the `clientSecret`;
 * - GenerateClientSecret replaces the one secret an application has;
 * - UpdateApplication changes only the fields it is given (an empty repeated field is "not set");
 * - DeleteApplication of an application already deleted answers its previous deletion date, of an unknown
 *   one not_found; ListApplications pages with `{offset, limit, asc}` and answers `pagination.totalResult`
 *   as a uint64 string; protobuf JSON leaves out enum fields at their zero value (BASIC, WEB);
 * - the v2 UserService (`POST /zitadel.user.v2.UserService/<Method>`, proto/zitadel/user/v2/*.proto):
 *   CreateUser of a service user (`machine`) in an organization, with an optional `userId` and `username`
 *   of the caller's (409 already_exists when the id or the organization's username is taken), GetUserByID
 *   (`{user}`, with `details.resourceOwner`; 404 for an unknown or deleted user), ListUsers (`query`,
 *   `queries`, answered as `{details: {totalResult}, result}`), AddSecret (a new secret overwriting the
 *   previous one; "the client id is the user's username"), DeleteUser (404 for an unknown or deleted user);
 * - `POST /oauth/v2/token`: client_credentials is for service users only: the client id is the user's
 *   username, the secret its current one (HTTP Basic or form), anything else `invalid_client`; an
 *   application's credentials are checked before its authorization code.
 */
export interface FakeApplication {
  applicationId: string;
  projectId: string;
  name: string;
  clientId: string;
  redirectUris: string[];
  grantTypes: string[];
  authMethodType: string;
}

export interface FakeMachineUser {
  userId: string;
  organizationId: string;
  username: string;
  name: string;
  description: string;
}

export interface FakeZitadel {
  /** ZITADEL's description, checking every request the fake receives and every answer it gives. */
  api: ApiDescription;
  generation: ZitadelGeneration;
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  url: string;
  apiToken: string;
  /** A personal access token of a user without any role on the project. */
  tokenWithoutRole: string;
  /** A personal access token of a read-only admin: PROJECT_OWNER_VIEWER and ORG_OWNER_VIEWER (reads pass, writes 403). */
  readOnlyToken: string;
  projectId: string;
  organizationId: string;
  /** `METHOD /path?query` of every request, in arrival order. */
  requests: string[];
  /** The next request matching method and path answers this status and body, once. */
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  /** The application whose OIDC client id this is. */
  client(clientId: string): FakeApplication | undefined;
  /** The service user whose username (its client id) this is. */
  machineUser(clientId: string): FakeMachineUser | undefined;
  /** Whether an application or a service user has this client id. */
  clientExists(clientId: string): boolean;
  /**
   * The redirect URIs ZITADEL holds for this client id: an application's own, or those in a service user's
   * metadata, read back through ListUserMetadata.
   */
  redirectUris(clientId: string): Promise<string[]>;
  /** Sets a metadata entry of the service user with this username, as an administrator would in the console. */
  setUserMetadata(clientId: string, key: string, value: string): void;
  /** A metadata entry of the service user with this username, decoded. */
  userMetadata(clientId: string, key: string): string | undefined;
  /** Applications and service users. */
  clientCount(): number;
  /** Creates an application directly, as an administrator would in the console (a generated id); returns its client id. */
  createForeignClient(name?: string): string;
  /** Creates a service user with a secret directly, as an administrator would (a generated id); returns its username. */
  createForeignMachineUser(username?: string): string;
  /**
   * Whether ZITADEL's token endpoint accepts these client credentials: a client_credentials token for a
   * service user, the authorization_code check (see below) for an OIDC application.
   */
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

const SERVICE = '/zitadel.application.v2.ApplicationService';
const USER_SERVICE = '/zitadel.user.v2.UserService';
const GRANT_TYPES = [
  'OIDC_GRANT_TYPE_AUTHORIZATION_CODE',
  'OIDC_GRANT_TYPE_IMPLICIT',
  'OIDC_GRANT_TYPE_REFRESH_TOKEN',
  'OIDC_GRANT_TYPE_DEVICE_CODE',
  'OIDC_GRANT_TYPE_TOKEN_EXCHANGE',
];
const AUTH_METHODS = [
  'OIDC_AUTH_METHOD_TYPE_BASIC',
  'OIDC_AUTH_METHOD_TYPE_POST',
  'OIDC_AUTH_METHOD_TYPE_NONE',
  'OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT',
];
const MAX_LIMIT = 1000;

/** A ZITADEL-like id: 18 decimal digits. */
const newId = () => `${randomInt(100_000, 999_999)}${randomInt(100_000, 999_999)}${randomInt(100_000, 999_999)}`;
const connectError = (res: Response, status: number, code: string, message: string) => void res.status(status).json({ code, message });

/** The user metadata key the adapter keeps a service user's redirect URIs under. */
const REDIRECT_URIS_KEY = 'dcr-bridge.redirect_uris';

export async function startFakeZitadel(options: FakeZitadelOptions = {}): Promise<FakeZitadel> {
  const generation = options.generation ?? 'current';
  const version = options.version ?? (generation === 'v4.5' ? 'v4.5.0' : 'v4.11.0');
  const api = createApiDescription({ name: 'ZITADEL v4 (v2 services, from its protos)', document: zitadelDocument });
  const metadata = new Map<string, Map<string, string>>();
  const apiToken = randomBytes(24).toString('base64url');
  const tokenWithoutRole = randomBytes(24).toString('base64url');
  const readOnlyToken = randomBytes(24).toString('base64url');
  const WRITES =
    /\/(CreateApplication|UpdateApplication|DeleteApplication|GenerateClientSecret|CreateUser|AddSecret|DeleteUser|SetUserMetadata)$/;
  const projectId = newId();
  const organizationId = newId();
  const users = new Map<string, FakeMachineUser>();
  const userSecrets = new Map<string, string>();
  const deletedUsers = new Set<string>();
  const applications = new Map<string, FakeApplication>();
  const deleted = new Map<string, string>();
  const secrets = new Map<string, string>();
  const kit = createFakeIdpKit();
  const byClientId = (clientId: string) => [...applications.values()].find((application) => application.clientId === clientId);
  const byUsername = (username: string) => [...users.values()].find((user) => user.username === username);

  const app = express();
  app.use(kit.middleware);

  app.post('/oauth/v2/token', express.urlencoded({ extended: false }), (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret } = clientCredentials(req.get('authorization'), form);
    const invalidClient = (description: string) => res.status(401).json({ error: 'invalid_client', error_description: description });
    if (form.grant_type === 'client_credentials') {
      const user = byUsername(clientId);
      if (!user) return invalidClient('client not found');
      if (userSecrets.get(user.userId) === undefined || userSecrets.get(user.userId) !== clientSecret)
        return invalidClient('invalid client credentials');
      return void res.json({ access_token: randomBytes(32).toString('base64url'), token_type: 'Bearer', expires_in: 43199 });
    }
    if (form.grant_type !== 'authorization_code') return res.status(400).json({ error: 'unsupported_grant_type' });
    const application = byClientId(clientId);
    if (!application || secrets.get(application.applicationId) !== clientSecret) return invalidClient('invalid client credentials');
    const usedBasic = req.get('authorization')?.startsWith('Basic ') === true;
    if (usedBasic !== (application.authMethodType === 'OIDC_AUTH_METHOD_TYPE_BASIC')) return invalidClient('auth method not allowed');
    // The fake issues no authorization codes: an authenticated client gets invalid_grant for any code.
    res.status(400).json({ error: 'invalid_grant', error_description: 'invalid code' });
  });

  const requireToken = (req: Request, res: Response, next: NextFunction) => {
    const authorization = req.get('authorization');
    if (authorization === undefined) return connectError(res, 401, 'unauthenticated', 'auth header missing');
    if (authorization === `Bearer ${tokenWithoutRole}`)
      return connectError(res, 403, 'permission_denied', 'No matching permissions found (AUTH-5mWD2)');
    if (authorization === `Bearer ${readOnlyToken}`) {
      if (WRITES.test(req.path)) return connectError(res, 403, 'permission_denied', 'No matching permissions found (AUTH-5mWD2)');
      return next();
    }
    if (authorization !== `Bearer ${apiToken}`) return connectError(res, 401, 'unauthenticated', 'Errors.Token.Invalid (AUTH-7fs1e)');
    next();
  };
  /** Every request and answer of a Connect service, against ZITADEL's description. */
  const described = (req: Request, res: Response, next: NextFunction) => {
    const path = `${req.baseUrl}${req.path}`;
    api.checkRequest(req.method, path, req.body);
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      api.checkResponse(req.method, path, res.statusCode, body);
      return json(body);
    };
    next();
  };
  const service = express.Router();
  app.use(SERVICE, express.json(), described, requireToken, service);
  const userService = express.Router();
  app.use(USER_SERVICE, express.json(), described, requireToken, userService);
  // auth v1 ListMyMemberships (REST, any authenticated user): the caller's roles.
  app.post('/auth/v1/memberships/me/_search', express.json(), described, requireToken, (req, res) => {
    const authorization = req.get('authorization');
    const [projectRoles, orgRoles] =
      authorization === `Bearer ${readOnlyToken}`
        ? [['PROJECT_OWNER_VIEWER'], ['ORG_OWNER_VIEWER']]
        : [['PROJECT_OWNER'], ['ORG_USER_MANAGER']];
    const details = { sequence: '4', creationDate: '2025-01-23T10:34:18.051Z', changeDate: '2025-01-23T10:34:18.051Z' };
    res.json({
      details: { totalResult: '2', viewTimestamp: new Date().toISOString() },
      result: [
        {
          userId: '69629012906488300',
          details: { ...details, resourceOwner: organizationId },
          roles: projectRoles,
          displayName: 'dcr-bridge',
          projectId,
        },
        {
          userId: '69629012906488300',
          details: { ...details, resourceOwner: organizationId },
          roles: orgRoles,
          displayName: 'dcr-bridge',
          orgId: organizationId,
        },
      ],
    });
  });
  app.post('/zitadel.instance.v2.InstanceService/GetInstance', express.json(), described, requireToken, (req, res) => {
    if (!options.tokenReadsInstance) return connectError(res, 403, 'permission_denied', 'No matching permissions found (AUTH-5mWD2)');
    res.json({
      instance: {
        id: '222430354126975533',
        changeDate: '2025-01-23T10:34:18.051Z',
        creationDate: '2025-01-23T10:34:18.051Z',
        state: 'STATE_RUNNING',
        name: 'ZITADEL',
        version,
      },
    });
  });

  const inProject = (res: Response, body: { projectId?: unknown; applicationId?: unknown }): FakeApplication | undefined => {
    if (body.projectId !== projectId) return void connectError(res, 404, 'not_found', 'Errors.Project.NotFound (COMMAND-Ggrwe)');
    const application = applications.get(String(body.applicationId));
    if (!application) return void connectError(res, 404, 'not_found', 'Errors.Project.App.NotExisting (COMMAND-Fkwe3)');
    return application;
  };
  const view = (application: FakeApplication) => ({
    applicationId: application.applicationId,
    creationDate: '2025-01-23T10:34:18.051Z',
    changeDate: '2025-01-23T10:34:18.051Z',
    state: 'APPLICATION_STATE_ACTIVE',
    name: application.name,
    ...(generation === 'current' ? { projectId: application.projectId } : {}),
    oidcConfiguration: {
      redirectUris: application.redirectUris,
      responseTypes: application.grantTypes.includes('OIDC_GRANT_TYPE_AUTHORIZATION_CODE') ? ['OIDC_RESPONSE_TYPE_CODE'] : [],
      grantTypes: application.grantTypes,
      clientId: application.clientId,
      // protobuf JSON leaves an enum at its zero value out.
      ...(application.authMethodType === 'OIDC_AUTH_METHOD_TYPE_BASIC' ? {} : { authMethodType: application.authMethodType }),
    },
  });
  const newSecret = (applicationId: string) => {
    const secret = randomBytes(48).toString('base64url').slice(0, 64);
    secrets.set(applicationId, secret);
    return secret;
  };

  service.post('/CreateApplication', (req, res) => {
    const body = req.body as {
      projectId?: string;
      applicationId?: string;
      name?: string;
      oidcConfiguration?: { redirectUris?: string[]; grantTypes?: string[]; authMethodType?: string };
    };
    if (typeof body.name !== 'string' || body.name.length < 1 || body.name.length > 200)
      return connectError(
        res,
        400,
        'invalid_argument',
        'invalid CreateApplicationRequest.Name: value length must be between 1 and 200 runes, inclusive',
      );
    const config = body.oidcConfiguration;
    if (!config) return connectError(res, 400, 'invalid_argument', 'invalid CreateApplicationRequest.ApplicationType: value is required');
    const grantTypes = config.grantTypes ?? [];
    const authMethodType = config.authMethodType ?? 'OIDC_AUTH_METHOD_TYPE_BASIC';
    if (!grantTypes.every((grant) => GRANT_TYPES.includes(grant)) || !AUTH_METHODS.includes(authMethodType))
      return connectError(res, 400, 'invalid_argument', 'proto: invalid value for enum field');
    if (body.projectId !== projectId) return connectError(res, 404, 'not_found', 'Errors.Project.NotFound (PROJECT-3M9sd)');
    const applicationId = body.applicationId || newId();
    if (applications.has(applicationId) || deleted.has(applicationId))
      return connectError(res, 409, 'already_exists', 'Errors.Project.App.AlreadyExisting (PROJECT-2n8fs)');
    const application: FakeApplication = {
      applicationId,
      projectId,
      name: body.name,
      clientId: newId(),
      redirectUris: config.redirectUris ?? [],
      grantTypes,
      authMethodType,
    };
    applications.set(applicationId, application);
    const withSecret = ['OIDC_AUTH_METHOD_TYPE_BASIC', 'OIDC_AUTH_METHOD_TYPE_POST'].includes(authMethodType);
    res.json({
      applicationId,
      creationDate: new Date().toISOString(),
      oidcConfiguration: {
        clientId: application.clientId,
        ...(withSecret ? { clientSecret: newSecret(applicationId) } : {}),
        complianceProblems: [],
      },
    });
  });

  service.post('/GetApplication', (req, res) => {
    const application = applications.get(String((req.body as { applicationId?: unknown }).applicationId));
    if (!application) return connectError(res, 404, 'not_found', 'Errors.Project.App.NotExisting (QUERY-ZRQ9t)');
    res.json({ application: view(application) });
  });

  service.post('/ListApplications', (req, res) => {
    const body = req.body as {
      pagination?: { offset?: number | string; limit?: number; asc?: boolean };
      filters?: Array<{
        projectIdFilter?: { projectId?: string };
        typeFilter?: string;
        nameFilter?: { name?: string };
        clientIdFilter?: { clientId?: string };
      }>;
    };
    // ZITADEL before the client id filter drops the unknown field, and its validator finds the filter empty.
    if (generation === 'v4.5' && body.filters?.some((filter) => filter.clientIdFilter && Object.keys(filter).length === 1))
      return connectError(res, 400, 'invalid_argument', 'invalid ApplicationSearchFilter.Filter: value is required');
    const offset = Number(body.pagination?.offset ?? 0);
    const limit = body.pagination?.limit ?? 100;
    if (limit > MAX_LIMIT) return connectError(res, 400, 'invalid_argument', 'Errors.Query.LimitExceeded (QUERY-4M9sd)');
    let found = [...applications.values()].sort((a, b) => (a.applicationId < b.applicationId ? -1 : 1));
    for (const filter of body.filters ?? []) {
      if (filter.projectIdFilter) found = found.filter((application) => application.projectId === filter.projectIdFilter?.projectId);
      if (filter.typeFilter && filter.typeFilter !== 'APPLICATION_TYPE_OIDC') found = [];
      if (filter.nameFilter) found = found.filter((application) => application.name === filter.nameFilter?.name);
      if (filter.clientIdFilter) found = found.filter((application) => application.clientId === filter.clientIdFilter?.clientId);
    }
    if (body.pagination?.asc === false) found.reverse();
    res.json({
      applications: found.slice(offset, offset + limit).map(view),
      pagination: { totalResult: String(found.length), appliedLimit: String(limit) },
    });
  });

  service.post('/UpdateApplication', (req, res) => {
    const application = inProject(res, req.body as object);
    if (!application) return;
    const config = (req.body as { oidcConfiguration?: { redirectUris?: string[] } }).oidcConfiguration;
    if (config?.redirectUris && config.redirectUris.length > 0) application.redirectUris = config.redirectUris;
    res.json({ changeDate: new Date().toISOString() });
  });

  service.post('/GenerateClientSecret', (req, res) => {
    const application = inProject(res, req.body as object);
    if (!application) return;
    res.json({ clientSecret: newSecret(application.applicationId), creationDate: new Date().toISOString() });
  });

  service.post('/DeleteApplication', (req, res) => {
    const { applicationId } = req.body as { applicationId?: string };
    const previous = deleted.get(String(applicationId));
    if (previous !== undefined) return void res.json({ deletionDate: previous });
    const application = inProject(res, req.body as object);
    if (!application) return;
    applications.delete(application.applicationId);
    secrets.delete(application.applicationId);
    const deletionDate = new Date().toISOString();
    deleted.set(application.applicationId, deletionDate);
    res.json({ deletionDate });
  });

  const userView = (user: FakeMachineUser) => ({
    userId: user.userId,
    details: { sequence: '2', changeDate: '2025-01-23T10:34:18.051Z', resourceOwner: user.organizationId },
    state: 'USER_STATE_ACTIVE',
    username: user.username,
    loginNames: [user.username],
    preferredLoginName: user.username,
    // protobuf JSON leaves out hasSecret when false and accessTokenType at its zero value (BEARER).
    machine: { name: user.name, description: user.description, ...(userSecrets.has(user.userId) ? { hasSecret: true } : {}) },
  });
  const userNotFound = (res: Response) => connectError(res, 404, 'not_found', 'Errors.User.NotFound (QUERY-Dfbg2)');

  userService.post('/CreateUser', (req, res) => {
    const body = req.body as {
      organizationId?: string;
      userId?: string;
      username?: string;
      machine?: { name?: string; description?: string };
      human?: unknown;
    };
    if (!body.machine) return connectError(res, 400, 'invalid_argument', 'invalid CreateUserRequest.UserType: value is required');
    const name = body.machine.name ?? '';
    if (name.length < 1 || name.length > 200)
      return connectError(
        res,
        400,
        'invalid_argument',
        'invalid CreateUserRequest_Machine.Name: value length must be between 1 and 200 runes, inclusive',
      );
    if (body.organizationId !== organizationId) return connectError(res, 404, 'not_found', 'Errors.Org.NotFound (COMMAND-Ky2gX)');
    const userId = body.userId || newId();
    // A service user without a username gets its user id as username.
    const username = body.username || userId;
    if (users.has(userId) || deletedUsers.has(userId) || byUsername(username))
      return connectError(res, 409, 'already_exists', 'Errors.User.AlreadyExists (COMMAND-k2unb)');
    users.set(userId, { userId, organizationId, username, name, description: body.machine.description ?? '' });
    res.json({ id: userId, creationDate: new Date().toISOString() });
  });

  userService.post('/GetUserByID', (req, res) => {
    const user = users.get(String((req.body as { userId?: unknown }).userId));
    if (!user) return userNotFound(res);
    res.json({
      details: { sequence: '2', changeDate: '2025-01-23T10:34:18.051Z', resourceOwner: user.organizationId },
      user: userView(user),
    });
  });

  userService.post('/ListUsers', (req, res) => {
    const body = req.body as {
      query?: { offset?: number | string; limit?: number; asc?: boolean };
      queries?: Array<{
        organizationIdQuery?: { organizationId?: string };
        userNameQuery?: { userName?: string; method?: string };
        typeQuery?: { type?: string };
      }>;
    };
    const offset = Number(body.query?.offset ?? 0);
    const limit = body.query?.limit ?? 100;
    if (limit > MAX_LIMIT) return connectError(res, 400, 'invalid_argument', 'Errors.Query.LimitExceeded (QUERY-4M9sd)');
    let found = [...users.values()];
    for (const query of body.queries ?? []) {
      if (query.organizationIdQuery) found = found.filter((user) => user.organizationId === query.organizationIdQuery?.organizationId);
      if (query.userNameQuery) {
        // TEXT_QUERY_METHOD_EQUALS is the zero value: left out of the JSON, it is the default.
        if ((query.userNameQuery.method ?? 'TEXT_QUERY_METHOD_EQUALS') !== 'TEXT_QUERY_METHOD_EQUALS')
          return connectError(res, 400, 'invalid_argument', 'the fake supports TEXT_QUERY_METHOD_EQUALS only');
        found = found.filter((user) => user.username === query.userNameQuery?.userName);
      }
      if (query.typeQuery && query.typeQuery.type !== 'TYPE_MACHINE') found = [];
    }
    res.json({
      details: { totalResult: String(found.length), timestamp: new Date().toISOString() },
      result: found.slice(offset, offset + limit).map(userView),
    });
  });

  userService.post('/AddSecret', (req, res) => {
    const user = users.get(String((req.body as { userId?: unknown }).userId));
    if (!user) return userNotFound(res);
    const clientSecret = randomBytes(48).toString('base64url').slice(0, 64);
    userSecrets.set(user.userId, clientSecret);
    res.json({ creationDate: new Date().toISOString(), clientSecret });
  });

  userService.post('/SetUserMetadata', (req, res) => {
    const body = req.body as { userId?: string; metadata?: Array<{ key?: string; value?: string }> };
    const user = users.get(String(body.userId));
    if (!user) return userNotFound(res);
    const entries = body.metadata ?? [];
    if (entries.length === 0 || entries.some(({ key, value }) => !key || key.length > 200 || !value))
      return connectError(res, 400, 'invalid_argument', 'invalid SetUserMetadataRequest.Metadata: value must contain at least 1 item(s)');
    const held = metadata.get(user.userId) ?? new Map<string, string>();
    // Existing keys are overwritten, others left as they are.
    for (const { key, value } of entries) held.set(key as string, value as string);
    metadata.set(user.userId, held);
    res.json({ setDate: new Date().toISOString() });
  });

  userService.post('/ListUserMetadata', (req, res) => {
    const body = req.body as { userId?: string; filters?: Array<{ keyFilter?: { key?: string } }> };
    const user = users.get(String(body.userId));
    if (!user) return userNotFound(res);
    let found = [...(metadata.get(user.userId) ?? new Map<string, string>()).entries()];
    for (const filter of body.filters ?? []) if (filter.keyFilter) found = found.filter(([key]) => key === filter.keyFilter?.key);
    res.json({
      pagination: { totalResult: String(found.length), appliedLimit: '100' },
      metadata: found.map(([key, value]) => ({
        creationDate: '2025-01-23T10:34:18.051Z',
        changeDate: '2025-01-23T10:34:18.051Z',
        key,
        value,
      })),
    });
  });

  userService.post('/DeleteUser', (req, res) => {
    const user = users.get(String((req.body as { userId?: unknown }).userId));
    if (!user) return userNotFound(res);
    users.delete(user.userId);
    userSecrets.delete(user.userId);
    metadata.delete(user.userId);
    deletedUsers.add(user.userId);
    res.json({ details: { sequence: '3', changeDate: new Date().toISOString(), resourceOwner: user.organizationId } });
  });

  const server = await listenOnLoopback(app);
  return {
    api,
    generation,
    url: server.origin,
    apiToken,
    tokenWithoutRole,
    readOnlyToken,
    projectId,
    organizationId,
    requests: kit.requests,
    faults: kit,
    failNext: kit.failNext,
    client: byClientId,
    machineUser: byUsername,
    clientExists: (clientId) => byClientId(clientId) !== undefined || byUsername(clientId) !== undefined,
    async redirectUris(clientId) {
      const application = byClientId(clientId);
      if (application) return application.redirectUris;
      const user = byUsername(clientId);
      if (!user) return [];
      const res = await fetch(`${server.origin}${USER_SERVICE}/ListUserMetadata`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json', 'connect-protocol-version': '1' },
        body: JSON.stringify({ userId: user.userId, filters: [{ keyFilter: { key: REDIRECT_URIS_KEY } }] }),
      });
      const { metadata: found = [] } = (await res.json()) as { metadata?: Array<{ value: string }> };
      return found.length === 0 ? [] : (JSON.parse(Buffer.from(found[0]?.value ?? '', 'base64').toString('utf8')) as string[]);
    },
    setUserMetadata(clientId, key, value) {
      const user = byUsername(clientId);
      if (!user) throw new Error(`no service user ${clientId}`);
      const held = metadata.get(user.userId) ?? new Map<string, string>();
      held.set(key, Buffer.from(value, 'utf8').toString('base64'));
      metadata.set(user.userId, held);
    },
    userMetadata(clientId, key) {
      const user = byUsername(clientId);
      const value = user && metadata.get(user.userId)?.get(key);
      return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
    },
    clientCount: () => applications.size + users.size,
    createForeignClient(name = 'Made in the console') {
      const application: FakeApplication = {
        applicationId: newId(),
        projectId,
        name,
        clientId: newId(),
        redirectUris: ['https://foreign.example.com/cb'],
        grantTypes: ['OIDC_GRANT_TYPE_AUTHORIZATION_CODE'],
        authMethodType: 'OIDC_AUTH_METHOD_TYPE_BASIC',
      };
      applications.set(application.applicationId, application);
      secrets.set(application.applicationId, 'foreign-secret');
      return application.clientId;
    },
    createForeignMachineUser(username = `billing-service-${randomInt(1000, 9999)}`) {
      const userId = newId();
      users.set(userId, { userId, organizationId, username, name: 'Made in the console', description: '' });
      userSecrets.set(userId, 'foreign-secret');
      return username;
    },
    async clientCredentials(clientId, clientSecret) {
      if (byUsername(clientId)) {
        const res = await fetch(`${server.origin}/oauth/v2/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'openid' }),
          headers: {
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
          },
        });
        return res.ok && typeof ((await res.json()) as { access_token?: unknown }).access_token === 'string';
      }
      // An OIDC application cannot get a token without a user: ZITADEL's token endpoint proves its credentials
      // by answering invalid_grant (client authenticated, code refused) instead of invalid_client.
      const application = byClientId(clientId);
      const basic = application?.authMethodType !== 'OIDC_AUTH_METHOD_TYPE_POST';
      const form = new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'no-such-code',
        redirect_uri: 'https://app.example.com/cb',
      });
      if (!basic) for (const [key, value] of Object.entries({ client_id: clientId, client_secret: clientSecret })) form.set(key, value);
      const res = await fetch(`${server.origin}/oauth/v2/token`, {
        method: 'POST',
        body: form,
        ...(basic
          ? {
              headers: {
                authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
              },
            }
          : {}),
      });
      const answer = (await res.json()) as { error?: string };
      return answer.error === 'invalid_grant';
    },
    close: server.close,
  };
}
