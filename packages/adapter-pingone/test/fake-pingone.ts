import { randomBytes, randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type ApiDescription, type FakeIdpKit } from '@dcr-bridge/conformance';
import { checkTraffic, createPingOneApiDescription, PLATFORM_BASE_PATH } from './vendor/pingone-api.js';

/**
 * A fake of the PingOne Platform API (applications, application secret, grants, resources and scopes) and
 * of the environment's token endpoint, written from PingOne's API reference:
 * - the application `id` is the OAuth client_id; names are unique per environment (400 INVALID_DATA with a
 *   UNIQUENESS_VIOLATION detail on `name`);
 * - the secret is NOT in the create answer: `GET …/applications/{id}/secret` (with `previous` only while it
 *   has not expired); `POST` there rotates (with `previous.expiresAt`, "1 minute to 30 days" ahead, the
 *   replaced one stays valid as the previous one until then, without it stops at once; either way an earlier
 *   previous secret is gone: one current and at most one previous); `DELETE` there ("DELETE Previous
 *   Application Secret", permission `applications:delete:secret`) ends the previous one early, and nothing
 *   ends the current one but a `POST` (PingOne's OpenAPI definition, pingone-go-sdk-v2
 *   `management/api/openapi.yaml`, ApplicationSecret / ApplicationSecret_previous, API 2023-06-29). The
 *   token endpoint accepts the current secret and an unexpired previous one. Not in Ping's documents, and
 *   chosen here: a `DELETE` with no previous secret answers 404 NOT_FOUND, and an `expiresAt` out of range
 *   400 INVALID_DATA on `previous.expiresAt`;
 * - errors `{id, code, message, details: [{code, target, message}]}`; unknown ids 404 NOT_FOUND; a missing
 *   or expired worker token 401; rate limits 429 with Retry-After;
 * - scopes belong to resources and are granted with `POST …/applications/{id}/grants`, at most one grant per
 *   resource ("Create Grant"); neither the resource list nor a resource's scope list takes a filter;
 * - worker tokens live 1 hour;
 * - `GET …/applications` takes no `filter`: "READ All Applications" documents no query parameter, the
 *   PingOne Go SDK (pingone-go-sdk-v2, generated from the API spec) gives ReadAllApplications none, and
 *   Ping's Terraform provider finds an application by name by listing them all and comparing names. It
 *   pages as "Paging and ordering collections" describes: at most `limit` items (or the service's page
 *   size), `size` and `count`, and an absolute `_links.next.href` carrying a `cursor` while more follow;
 * - `PUT …/applications/{id}` replaces the application with the body ("UPDATE Application": the body holds
 *   the whole application); `id`, `environment`, `createdAt` and `updatedAt` are the server's.
 * - the worker's access comes from its role assignments ("Application Role Assignments": `{id, role: {id},
 *   scope: {id, type}, environment: {id}, readOnly}`), each call needing its permission identifier
 *   (`applications:create:application`…, "PingOne Permissions by Identifier") in a role held for the
 *   environment (or the organization), else 403 ACCESS_FAILED; `GET /roles` lists the built-in roles with
 *   their permissions ("Read All Built-in Admin Roles"); a role id it does not list is a custom role, which
 *   here grants what the bridge uses. The permission lists of the built-in roles are the ones the adapter's
 *   README relies on (Application Owner: applications, their secrets and grants, reading resources and
 *   scopes), not copied from a tenant. Reading its own role assignments is allowed to every worker (PingOne
 *   marks an assignment `readOnly` when "the actor is the target").
 *
 * Every Platform API request the adapter sends and every answer the fake gives (an injected fault included) is
 * checked against the PingOne Platform API description pinned in test/vendor (`api`); the tests assert that it
 * found nothing. PingOne has no version endpoint: the fake models API v1 as that description has it.
 */
interface App {
  body: Record<string, unknown> & { id: string; name: string; grantTypes: string[] };
  secret: string;
  previous?: { secret: string; expiresAt: number };
  grants: Array<{ resourceId: string; scopeIds: string[] }>;
}

/** What the worker holds: a built-in role by name (any other name is a custom role), for the environment unless a scope is given. */
export interface WorkerRole {
  role: string;
  scope?: { type: 'ENVIRONMENT' | 'ORGANIZATION' | 'POPULATION'; id: string };
}

/** The permissions the bridge's calls need (see the adapter's diagnostics). */
export const BRIDGE_PERMISSIONS = [
  'applications:read:application',
  'applications:create:application',
  'applications:update:application',
  'applications:delete:application',
  'applications:read:secret',
  'applications:update:secret',
  'applications:delete:secret',
  'applications:create:grant',
  'resources:read:resource',
  'resources:read:scope',
];
const BUILT_IN_ROLES: Array<{ name: string; applicableTo: string[]; permissions: string[] }> = [
  {
    name: 'Organization Admin',
    applicableTo: ['ORGANIZATION'],
    permissions: [
      'orgmgt:read:organization',
      'orgmgt:create:environment',
      'orgmgt:read:environment',
      'orgmgt:update:environment',
      'orgmgt:delete:environment',
    ],
  },
  {
    name: 'Environment Admin',
    applicableTo: ['ENVIRONMENT'],
    permissions: [
      ...BRIDGE_PERMISSIONS,
      'applications:import:application',
      'applications:read:grant',
      'applications:delete:grant',
      'resources:create:resource',
      'resources:create:scope',
      'orgmgt:read:environment',
    ],
  },
  {
    name: 'Application Owner',
    applicableTo: ['ENVIRONMENT'],
    permissions: [...BRIDGE_PERMISSIONS, 'applications:read:grant', 'applications:delete:grant'],
  },
  {
    // Read-only: sees applications, their grants and the resources, and may change nothing (modelled for the
    // readiness test of a read-only worker; the list is this fake's, like the others).
    name: 'Configuration Read Only',
    applicableTo: ['ENVIRONMENT'],
    permissions: [
      'applications:read:application',
      'applications:read:grant',
      'resources:read:resource',
      'resources:read:scope',
      'orgmgt:read:environment',
    ],
  },
  {
    name: 'Identity Data Admin',
    applicableTo: ['ENVIRONMENT', 'POPULATION'],
    permissions: ['dir:create:user', 'dir:read:user', 'dir:update:user', 'dir:delete:user', 'dir:read:population'],
  },
];

export interface FakePingOneOptions {
  /** The service's page size for `GET …/applications` (default 100). */
  pageSize?: number;
  /** Where traffic problems are collected; default a new description of the pinned document. */
  api?: ApiDescription;
}

export interface FakePingOne {
  /** The pinned API description every Platform API request and answer is checked against. */
  api: ApiDescription;
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  apiUrl: string;
  authUrl: string;
  environmentId: string;
  worker: { clientId: string; clientSecret: string };
  requests: string[];
  workerTokenRequests(): number;
  /** The worker's role assignments from now on; default Application Owner for the environment. */
  setWorkerRoles(roles: WorkerRole[]): void;
  failNext(method: string, pattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  app(id: string): App | undefined;
  appCount(): number;
  scopeNames(app: App): string[];
  createForeignApp(): string;
  /** An administrator deletes the application in the console, behind the bridge's back. */
  deleteApp(id: string): void;
  /** An administrator changes settings of the application in the console, behind the bridge's back. */
  editApp(id: string, settings: Record<string, unknown>): void;
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

const error = (
  res: Response,
  status: number,
  code: string,
  message: string,
  details: Array<{ code: string; target: string; message: string }> = [],
) => void res.status(status).json({ id: randomUUID(), code, message, ...(details.length > 0 ? { details } : {}) });

export async function startFakePingOne(options: FakePingOneOptions = {}): Promise<FakePingOne> {
  const pageSize = options.pageSize ?? 100;
  const apiDescription = options.api ?? createPingOneApiDescription();
  const environmentId = randomUUID();
  const worker = { clientId: randomUUID(), clientSecret: randomBytes(32).toString('base64url') };
  const apps = new Map<string, App>();
  const tokens = new Map<string, number>();
  const resources = [
    {
      id: randomUUID(),
      name: 'openid',
      type: 'OPENID_CONNECT',
      scopes: [
        { id: randomUUID(), name: 'openid' },
        { id: randomUUID(), name: 'profile' },
      ],
    },
    {
      id: randomUUID(),
      name: 'Orders API',
      type: 'CUSTOM',
      scopes: [
        { id: randomUUID(), name: 'orders:read' },
        { id: randomUUID(), name: 'orders:write' },
      ],
    },
  ];
  const kit = createFakeIdpKit();
  let workerTokenRequests = 0;
  const builtInRoles = BUILT_IN_ROLES.map((role) => ({ id: randomUUID(), ...role }));
  const customRoleIds = new Map<string, string>();
  const roleId = (name: string) =>
    builtInRoles.find((role) => role.name === name)?.id ?? customRoleIds.get(name) ?? customRoleIds.set(name, randomUUID()).get(name)!;
  let workerRoles: WorkerRole[] = [{ role: 'Application Owner' }];
  const scopeOf = (assignment: WorkerRole) => assignment.scope ?? { type: 'ENVIRONMENT' as const, id: environmentId };
  /** What the worker may do in the environment: the permissions of the roles it holds for it or for the organization. */
  const workerMay = (permission: string) =>
    workerRoles.some((assignment) => {
      const scope = scopeOf(assignment);
      if (!(scope.type === 'ORGANIZATION' || (scope.type === 'ENVIRONMENT' && scope.id === environmentId))) return false;
      const builtIn = builtInRoles.find((role) => role.name === assignment.role);
      return (builtIn ? builtIn.permissions : BRIDGE_PERMISSIONS).includes(permission);
    });

  const app = express();
  checkTraffic(app, PLATFORM_BASE_PATH, apiDescription);
  app.use(kit.middleware);

  app.post('/:envId/as/token', express.urlencoded({ extended: false }), (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret: secret } = clientCredentials(req.get('authorization'), form);
    const invalid = () =>
      res
        .status(401)
        .json({ error: 'invalid_client', error_description: 'Request denied: Invalid client credentials (Correlation ID: x)' });
    if (req.params.envId !== environmentId || form.grant_type !== 'client_credentials')
      return res.status(400).json({ error: 'invalid_request' });
    if (clientId === worker.clientId) {
      workerTokenRequests++;
      if (secret !== worker.clientSecret) return invalid();
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, Date.now() + 3_600_000);
      return res.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
    }
    const found = apps.get(clientId);
    const valid =
      found && (found.secret === secret || (found.previous && found.previous.secret === secret && found.previous.expiresAt > Date.now()));
    if (!found || !valid || found.body.enabled === false) return invalid();
    if (!found.body.grantTypes.includes('CLIENT_CREDENTIALS'))
      return res.status(400).json({ error: 'unauthorized_client', error_description: 'Request denied: Unsupported grant_type' });
    res.json({ access_token: randomBytes(24).toString('base64url'), token_type: 'Bearer', expires_in: 3600, scope: '' });
  });

  const api = express.Router({ mergeParams: true });
  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const bearer = req.get('authorization')?.match(/^Bearer (.+)$/)?.[1];
    const expires = bearer ? tokens.get(bearer) : undefined;
    if (!expires || expires < Date.now())
      return error(res, 401, 'UNAUTHORIZED', 'The request could not be completed. You do not have access to this resource.');
    next();
  };
  const inEnvironment = (req: Request, res: Response, next: NextFunction) => {
    if (req.params.envId !== environmentId)
      return error(res, 404, 'NOT_FOUND', 'The request could not be completed. The requested resource was not found.');
    next();
  };
  const requires = (permission: string) => (_req: Request, res: Response, next: NextFunction) =>
    workerMay(permission)
      ? next()
      : error(
          res,
          403,
          'ACCESS_FAILED',
          'The request could not be completed. You do not have permissions or are not licensed to make this request.',
        );
  app.get('/v1/roles', authenticate, (req, res) => {
    res.json({
      _links: { self: { href: `${req.protocol}://${req.get('host')}${req.originalUrl}` } },
      _embedded: {
        roles: builtInRoles.map(({ id, name, applicableTo, permissions }) => ({
          id,
          name,
          description: `${name} (built-in)`,
          applicableTo,
          permissions: permissions.map((permission) => ({ id: permission, classifier: permission.split(':')[0], description: permission })),
        })),
      },
      size: builtInRoles.length,
    });
  });
  app.use('/v1/environments/:envId', authenticate, inEnvironment, express.json(), api);
  api.get('/applications/:id/roleAssignments', (req, res) => {
    if (req.params.id !== worker.clientId)
      return error(
        res,
        403,
        'ACCESS_FAILED',
        'The request could not be completed. You do not have permissions or are not licensed to make this request.',
      );
    const assignments = workerRoles.map((assignment) => ({
      id: randomUUID(),
      role: { id: roleId(assignment.role) },
      scope: scopeOf(assignment),
      environment: { id: environmentId },
      readOnly: true,
    }));
    res.json({
      _links: { self: { href: `${req.protocol}://${req.get('host')}${req.originalUrl}` } },
      _embedded: { roleAssignments: assignments },
      size: assignments.length,
    });
  });
  const found = (req: Request, res: Response) => {
    const item = apps.get(String(req.params.id));
    if (!item) error(res, 404, 'NOT_FOUND', `Unable to find application with ID: '${req.params.id}'`);
    return item;
  };
  const validate = (body: Record<string, unknown>, except?: string) => {
    const details: Array<{ code: string; target: string; message: string }> = [];
    if ([...apps.values()].some((other) => other.body.name === body.name && other.body.id !== except))
      details.push({ code: 'UNIQUENESS_VIOLATION', target: 'name', message: 'May not be the same as an existing value.' });
    (body.redirectUris as string[] | undefined)?.forEach((uri) => {
      try {
        new URL(uri);
      } catch {
        details.push({ code: 'INVALID_VALUE', target: 'redirectUris', message: `Must be a valid redirect URI: ${uri}` });
      }
    });
    return details;
  };
  const invalidData = (res: Response, details: Array<{ code: string; target: string; message: string }>) =>
    error(res, 400, 'INVALID_DATA', 'The request could not be completed. One or more validation errors were in the request.', details);

  api.get('/applications', requires('applications:read:application'), (req, res) => {
    const all = [...apps.values()].map((item) => item.body);
    const start = typeof req.query.cursor === 'string' ? Number(Buffer.from(req.query.cursor, 'base64url').toString()) : 0;
    const size = Math.min(pageSize, Number(req.query.limit ?? pageSize));
    const page = all.slice(start, start + size);
    const here = `${req.protocol}://${req.get('host')}${req.baseUrl}${req.path}`;
    const link = (offset: number) => ({
      href: `${here}?${new URLSearchParams({ ...(req.query.limit ? { limit: String(req.query.limit) } : {}), cursor: Buffer.from(String(offset)).toString('base64url') })}`,
    });
    res.json({
      _links: {
        self: { href: `${req.protocol}://${req.get('host')}${req.originalUrl}` },
        ...(start + size < all.length ? { next: link(start + size) } : {}),
      },
      _embedded: { applications: page },
      size: page.length,
      count: all.length,
    });
  });
  api.post('/applications', requires('applications:create:application'), (req, res) => {
    const details = validate(req.body as Record<string, unknown>);
    if (details.length > 0) return invalidData(res, details);
    const id = randomUUID();
    const body = {
      ...(req.body as App['body']),
      id,
      environment: { id: environmentId },
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    apps.set(id, { body, secret: randomBytes(48).toString('base64url').slice(0, 64), grants: [] });
    res.status(201).json(body);
  });
  api.get('/applications/:id', requires('applications:read:application'), (req, res) => {
    const item = found(req, res);
    if (item) res.json(item.body);
  });
  api.put('/applications/:id', requires('applications:update:application'), (req, res) => {
    const item = found(req, res);
    if (!item) return;
    const details = validate(req.body as Record<string, unknown>, item.body.id);
    if (details.length > 0) return invalidData(res, details);
    item.body = {
      ...(req.body as App['body']),
      id: item.body.id,
      environment: { id: environmentId },
      createdAt: item.body.createdAt,
      updatedAt: new Date().toISOString(),
    };
    res.json(item.body);
  });
  api.delete('/applications/:id', requires('applications:delete:application'), (req, res) => {
    if (!found(req, res)) return;
    apps.delete(String(req.params.id));
    res.status(204).end();
  });
  api.get('/applications/:id/secret', requires('applications:read:secret'), (req, res) => {
    const item = found(req, res);
    // "If a previous client secret has been designated (and has not expired), the previous secret is also returned."
    const previous = item?.previous && item.previous.expiresAt > Date.now() ? item.previous : undefined;
    if (item)
      res.json({
        secret: item.secret,
        ...(previous ? { previous: { secret: previous.secret, expiresAt: new Date(previous.expiresAt).toISOString() } } : {}),
      });
  });
  api.post('/applications/:id/secret', requires('applications:update:secret'), (req, res) => {
    const item = found(req, res);
    if (!item) return;
    const previousUntil = (req.body as { previous?: { expiresAt?: string } } | undefined)?.previous?.expiresAt;
    if (previousUntil !== undefined) {
      // "Supported time range is 1 minute to 30 days."
      const ahead = Date.parse(previousUntil) - Date.now();
      if (!(ahead >= 60_000 && ahead <= 30 * 24 * 3_600_000))
        return invalidData(res, [
          { code: 'INVALID_VALUE', target: 'previous.expiresAt', message: 'Must be between 1 minute and 30 days from now.' },
        ]);
    }
    item.previous = previousUntil ? { secret: item.secret, expiresAt: Date.parse(previousUntil) } : undefined;
    item.secret = randomBytes(48).toString('base64url').slice(0, 64);
    res.json({ secret: item.secret, ...(item.previous ? { previous: { secret: item.previous.secret, expiresAt: previousUntil } } : {}) });
  });
  api.delete('/applications/:id/secret', requires('applications:delete:secret'), (req, res) => {
    const item = found(req, res);
    if (!item) return;
    if (!item.previous || item.previous.expiresAt <= Date.now())
      return error(res, 404, 'NOT_FOUND', 'The application has no previous secret.');
    item.previous = undefined;
    res.status(204).end();
  });
  api.post('/applications/:id/grants', requires('applications:create:grant'), (req, res) => {
    const item = found(req, res);
    if (!item) return;
    const body = req.body as { resource?: { id?: string }; scopes?: Array<{ id?: string }> };
    const resource = resources.find((candidate) => candidate.id === body.resource?.id);
    if (!resource)
      return invalidData(res, [{ code: 'INVALID_VALUE', target: 'resource.id', message: 'Referenced resource does not exist.' }]);
    const scopeIds = (body.scopes ?? []).map((scope) => scope.id ?? '');
    if (scopeIds.some((id) => !resource.scopes.some((scope) => scope.id === id)))
      return invalidData(res, [{ code: 'INVALID_VALUE', target: 'scopes', message: 'Referenced scope does not belong to the resource.' }]);
    // "An application cannot have multiple grants that refer to the same resource, even if the scopes differ."
    if (item.grants.some((grant) => grant.resourceId === resource.id))
      return invalidData(res, [
        { code: 'UNIQUENESS_VIOLATION', target: 'resource.id', message: 'The application already has a grant for this resource.' },
      ]);
    item.grants.push({ resourceId: resource.id, scopeIds });
    res.status(201).json({ id: randomUUID(), resource: { id: resource.id }, scopes: scopeIds.map((id) => ({ id })) });
  });
  api.get(
    '/resources',
    requires('resources:read:resource'),
    (_req, res) => void res.json({ _embedded: { resources: resources.map(({ scopes: _scopes, ...resource }) => resource) } }),
  );
  api.get('/resources/:resourceId/scopes', requires('resources:read:scope'), (req, res) => {
    const resource = resources.find((candidate) => candidate.id === req.params.resourceId);
    if (!resource) return error(res, 404, 'NOT_FOUND', 'Unable to find resource');
    res.json({ _embedded: { scopes: resource.scopes } });
  });

  const server = await listenOnLoopback(app);
  const origin = server.origin;
  return {
    api: apiDescription,
    apiUrl: `${origin}/v1`,
    authUrl: origin,
    environmentId,
    worker,
    requests: kit.requests,
    faults: kit,
    workerTokenRequests: () => workerTokenRequests,
    setWorkerRoles: (roles) => void (workerRoles = [...roles]),
    failNext: kit.failNext,
    app: (id) => apps.get(id),
    appCount: () => apps.size,
    scopeNames: (item) =>
      item.grants.flatMap((grant) =>
        grant.scopeIds.map((id) => resources.flatMap((r) => r.scopes).find((scope) => scope.id === id)?.name ?? '?'),
      ),
    createForeignApp() {
      const id = randomUUID();
      apps.set(id, {
        body: {
          id,
          name: `Console app ${id.slice(0, 8)}`,
          description: 'Made by an administrator',
          enabled: true,
          type: 'WEB_APP',
          protocol: 'OPENID_CONNECT',
          grantTypes: ['CLIENT_CREDENTIALS'],
          redirectUris: ['https://foreign.example.com/cb'],
          tokenEndpointAuthMethod: 'CLIENT_SECRET_BASIC',
        },
        secret: 'foreign',
        grants: [],
      });
      return id;
    },
    deleteApp(id) {
      apps.delete(id);
    },
    editApp(id, settings) {
      const item = apps.get(id);
      if (!item) throw new Error(`no application ${id}`);
      item.body = { ...item.body, ...settings, updatedAt: new Date().toISOString() };
    },
    async clientCredentials(clientId, clientSecret) {
      const res = await fetch(`${origin}/${environmentId}/as/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      });
      return res.ok;
    },
    close: server.close,
  };
}
