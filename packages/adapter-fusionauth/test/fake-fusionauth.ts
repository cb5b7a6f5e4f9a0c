import { randomBytes, randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type ApiDescription, type FakeIdpKit } from '@dcr-bridge/conformance';
import { createFusionauthApiDescription } from './vendor/fusionauth-api.js';

/**
 * A fake of the part of FusionAuth's API the adapter calls, and of its token endpoint, written from
 * FusionAuth's API reference (the README's "Facts and sources" lists the pages):
 * - every API request needs `Authorization: <API key>` (the key itself, no scheme), else 401 with an empty body
 *   (https://fusionauth.io/docs/apis/authentication);
 * - with several tenants, a request needs `X-FusionAuth-TenantId` (or a tenant-locked key); without it the fake
 *   answers 400 with a general error (the exact code is not confirmed by a live server);
 * - `POST /api/entity/{entityId}` creates an entity with the caller's id, answers 200 `{entity}` with the
 *   clientId (the entity id when none is given) and a generated clientSecret; `PUT` replaces the entity and keeps
 *   the secret when none is sent, and stores one that is; `PATCH` merges what is sent into the entity (in the API
 *   description, FusionAuth/fusionauth-openapi `patchEntityWithId`, from 1.57.0 on); `GET` answers 200 `{entity}`
 *   with its clientSecret; `DELETE` 200 with no body; an unknown id is 404 with no body
 *   (https://fusionauth.io/docs/apis/entities/entities);
 * - a refusal is FusionAuth's Errors object `{fieldErrors: {field: [{code, message}]}, generalErrors: […]}`
 *   (https://fusionauth.io/docs/apis/errors);
 * - `GET /api/entity/type/{id}` answers `{entityType: {permissions: [{name}]}}`
 *   (https://fusionauth.io/docs/apis/entities/entity-types);
 * - `POST /api/entity/{id}/grant` upserts the grant of a recipient entity on the target
 *   (https://fusionauth.io/docs/apis/entities/grants);
 * - `POST /oauth2/token` runs the client_credentials grant for an entity's clientId and clientSecret; a
 *   `target-entity:{id}:{permission,…}` scope needs a grant carrying those permissions;
 * - an id in the path that is not a UUID is refused before anything is looked up: 400
 *   `{fieldErrors: {entityId: [{code: '[couldNotConvert]entityId', message: 'Invalid entityId [x]. This must be a valid
 *   UUID String (e.g. …).'}]}}` (FusionAuth binds path ids to java.util.UUID; the body as FusionAuth's answers quoted in
 *   FusionAuth/fusionauth-typescript-client#10 and FusionAuth/terraform-provider-fusionauth#119 show it);
 * - `GET /api/system/version` answers `{version}` (`retrieveVersionWithId` in the API description), with the API key;
 * - an API key limited to some endpoints and methods answers 401 with no body for the others (`readOnlyApiKey`:
 *   GET on /api/entity and /api/entity/type only, https://fusionauth.io/docs/apis/api-keys);
 * - before 1.57.0 (`version` option) FusionAuth has no PATCH on an entity: the fake answers 405 with no body (the
 *   status is not confirmed by a server of that version).
 *
 * Every request the adapter sends and every answer the fake gives is checked against FusionAuth's own OpenAPI
 * document, pinned in test/vendor (`api`); the tests assert that it found nothing.
 */
export interface FakeFusionauthOptions {
  /** The FusionAuth version the fake models (`GET /api/system/version`); default 1.69.0, the pinned API description's. */
  version?: string;
  /** Where traffic problems are collected; default a new description of the pinned document. */
  api?: ApiDescription;
}

/** FusionAuth 1.57.0 added `PATCH /api/entity/{entityId}` (patchEntityWithId), which rotation needs. */
export const ENTITY_PATCH_SINCE = '1.57.0';

const ENTITY_FIELDS = ['clientId', 'clientSecret', 'data', 'name', 'parentId', 'type'];

/** The error_description of the conformance kit's injected 500 and 429 (`error_500`, `rate_limited`). */
const KIT_FAULT = 'injected fault';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const versionParts = (version: string) => version.split('.').map((part) => parseInt(part, 10) || 0);
export const versionBefore = (version: string, than: string) => {
  const [a, b] = [versionParts(version), versionParts(than)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
};
export interface FakeEntity {
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  type: { id: string; name: string };
  data: Record<string, unknown>;
  insertInstant: number;
  lastUpdateInstant: number;
}

export interface FakeFusionauth {
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  url: string;
  apiKey: string;
  /** A key allowed GET on /api/entity and /api/entity/type only (no write, no /api/system/version). */
  readOnlyApiKey: string;
  /** The version `GET /api/system/version` answers. */
  version: string;
  /** The pinned API description every request and answer is checked against. */
  api: ApiDescription;
  tenantId: string;
  /** The entity type the bridge's entities are made of. */
  entityTypeId: string;
  /** The entity standing for the APIs; its type has the permissions read:orders and write:orders. */
  targetEntityId: string;
  /** `METHOD /path?query` of every request, in arrival order. */
  requests: string[];
  /** The next request matching method and path answers this status and body, once. */
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  entity(entityId: string): FakeEntity | undefined;
  /** The permissions granted to a recipient entity on the target entity, or undefined without a grant. */
  grantedPermissions(recipientEntityId: string): string[] | undefined;
  entityCount(): number;
  /** Sets keys of an entity's data directly, as an administrator would in the admin UI. */
  editEntityData(entityId: string, data: Record<string, unknown>): void;
  /** Creates an entity directly, as an administrator would in the admin UI (no bridge marker); returns its id. */
  createForeignEntity(name?: string): string;
  /** client_credentials at the token endpoint: whether a token is issued. */
  clientCredentials(clientId: string, clientSecret: string, scope?: string): Promise<boolean>;
  close(): Promise<void>;
}

/** RFC 7396: objects merged key by key (null removes a key), anything else replaced. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

const fieldError = (field: string, code: string, message: string) => ({ fieldErrors: { [field]: [{ code: `${code}${field}`, message }] } });

export async function startFakeFusionauth(options: FakeFusionauthOptions = {}): Promise<FakeFusionauth> {
  const version = options.version ?? '1.69.0';
  const apiDescription = options.api ?? createFusionauthApiDescription();
  const apiKey = randomBytes(32).toString('base64url');
  const readOnlyApiKey = randomBytes(32).toString('base64url');
  const tenantId = randomUUID();
  const entityTypeId = randomUUID();
  const apiTypeId = randomUUID();
  const targetEntityId = randomUUID();
  const now = Date.now();
  const entityTypes = new Map<string, { id: string; name: string; permissions: Array<{ id: string; name: string; isDefault: boolean }> }>([
    [entityTypeId, { id: entityTypeId, name: 'Konnect application', permissions: [] }],
    [
      apiTypeId,
      {
        id: apiTypeId,
        name: 'API',
        permissions: ['read:orders', 'write:orders'].map((name) => ({ id: randomUUID(), name, isDefault: false })),
      },
    ],
  ]);
  const entities = new Map<string, FakeEntity>();
  // target entity id → recipient entity id → permissions
  const grants = new Map<string, Map<string, string[]>>();
  const newSecret = () => randomBytes(32).toString('base64url');
  const addEntity = (entity: Omit<FakeEntity, 'insertInstant' | 'lastUpdateInstant' | 'tenantId'>) => {
    const stored = { ...entity, tenantId, insertInstant: Date.now(), lastUpdateInstant: Date.now() };
    entities.set(entity.id, stored);
    return stored;
  };
  addEntity({
    id: targetEntityId,
    name: 'Orders API',
    clientId: targetEntityId,
    clientSecret: newSecret(),
    type: { id: apiTypeId, name: 'API' },
    data: {},
  });
  const kit = createFakeIdpKit();

  const app = express();
  // Every answer as the fake (or a failure a test injected) gave it, and every request that reached the fake's FusionAuth
  // (behind the kit, whose faults must read the body themselves), against the pinned API description. The kit's own
  // injected 500 and 429 carry a body of the kit's, not FusionAuth's: those are left out (test/vendor/README.md).
  app.use((req, res, next) => {
    const path = req.path;
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) =>
      typeof chunk === 'function' ? end(chunk, ...rest) : (keep(chunk), end(chunk, ...rest))) as typeof res.end;
    res.on('finish', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text !== '' && /json/.test(String(res.getHeader('content-type') ?? '')) ? JSON.parse(text) : undefined;
      if ((body as { error_description?: unknown } | undefined)?.error_description === KIT_FAULT) return;
      apiDescription.checkResponse(req.method, path, res.statusCode, body);
    });
    next();
  });
  app.use(kit.middleware);
  app.use(express.json(), (req, _res, next) => {
    // A form (the token endpoint) is no JSON body: the description has none for it.
    apiDescription.checkRequest(req.method, req.path, req.is('json') ? req.body : undefined);
    next();
  });

  app.post('/oauth2/token', express.urlencoded({ extended: false }), (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret } = clientCredentials(req.get('authorization'), form);
    if (form.grant_type !== 'client_credentials')
      return res
        .status(400)
        .json({ error: 'unsupported_grant_type', error_description: 'Unsupported grant type.', error_reason: 'invalid_grant_type' });
    const entity = [...entities.values()].find((candidate) => candidate.clientId === clientId);
    if (!entity || entity.clientSecret !== clientSecret)
      return res.status(401).json({
        error: 'invalid_client',
        error_description: 'Invalid client authentication.',
        error_reason: 'invalid_client_authentication',
      });
    const target = form.scope?.match(/^target-entity:([^:]+):?(.*)$/);
    if (target) {
      const granted = grants.get(target[1] ?? '')?.get(entity.id);
      const asked = (target[2] ?? '').split(',').filter((permission) => permission !== '');
      if (!granted || asked.some((permission) => !granted.includes(permission)))
        return res.status(400).json({ error: 'invalid_scope', error_description: 'The requested scope is not granted.' });
    }
    res.json({ access_token: randomBytes(24).toString('base64url'), token_type: 'Bearer', expires_in: 3600, scope: form.scope });
  });

  // An API key's endpoints and methods (https://fusionauth.io/docs/apis/api-keys): the full key may call anything, the
  // read-only key GET on /api/entity (and below) alone; anything else is 401 with no body.
  const keyAllows = (req: Request) => {
    const key = req.get('authorization');
    if (key === apiKey) return true;
    return key === readOnlyApiKey && req.method === 'GET' && /^\/api\/entity(\/|$)/.test(req.originalUrl);
  };
  app.get('/api/system/version', (req, res) => {
    if (!keyAllows(req)) return void res.status(401).end();
    res.json({ version });
  });

  const requireApiKey = (req: Request, res: Response, next: NextFunction) => {
    if (!keyAllows(req)) return void res.status(401).end();
    // This FusionAuth has a second tenant, so every entity request must name one.
    const asked = req.get('x-fusionauth-tenantid');
    if (asked === undefined)
      return void res
        .status(400)
        .json({ generalErrors: [{ code: '[TenantIdRequired]', message: 'A tenant Id is required for this request.' }] });
    if (asked !== tenantId) return void res.status(401).end();
    next();
  };
  const api = express.Router();
  app.use('/api', requireApiKey, api);

  // FusionAuth binds ids in the path to UUIDs: anything else is refused before it is looked up.
  const couldNotConvert = (field: string, value: string) => ({
    fieldErrors: {
      [field]: [
        {
          code: `[couldNotConvert]${field}`,
          message: `Invalid ${field} [${value}]. This must be a valid UUID String (e.g. 25a872da-bb44-4af8-a43d-e7bcb5351ebc).`,
        },
      ],
    },
  });
  api.use((req, res, next) => {
    const segments = req.path.split('/');
    if (segments[1] !== 'entity') return next();
    const [field, raw] = segments[2] === 'type' ? ['entityTypeId', segments[3]] : ['entityId', segments[2]];
    if (raw === undefined || raw === '') return next();
    const id = decodeURIComponent(raw);
    if (!UUID.test(id)) return void res.status(400).json(couldNotConvert(field, id));
    next();
  });

  api.get('/entity/type/:id', (req, res) => {
    const type = entityTypes.get(String(req.params.id));
    if (!type) return void res.status(404).end();
    res.json({ entityType: { ...type, insertInstant: now, lastUpdateInstant: now, jwtConfiguration: { enabled: false } } });
  });
  api.post('/entity/:id/grant', (req, res) => {
    const target = entities.get(String(req.params.id));
    if (!target) return void res.status(404).end();
    const grant = (req.body as { grant?: { recipientEntityId?: string; permissions?: string[] } }).grant;
    if (!grant?.recipientEntityId || !entities.has(grant.recipientEntityId))
      return res.status(400).json(fieldError('grant.recipientEntityId', '[invalid]', 'The recipient entity does not exist.'));
    const known = entityTypes.get(target.type.id)?.permissions.map((permission) => permission.name) ?? [];
    const unknown = (grant.permissions ?? []).filter((permission) => !known.includes(permission));
    if (unknown.length > 0)
      return res.status(400).json(fieldError('grant.permissions', '[invalid]', `Unknown permissions [${unknown.join(', ')}].`));
    const forTarget = grants.get(target.id) ?? new Map<string, string[]>();
    forTarget.set(grant.recipientEntityId, grant.permissions ?? []);
    grants.set(target.id, forTarget);
    res.status(200).end();
  });

  type EntityBody = { entity?: Partial<Omit<FakeEntity, 'type'>> & { type?: { id?: string } } };
  const invalid = (body: EntityBody): object | undefined => {
    const entity = body.entity;
    if (typeof entity?.name !== 'string' || entity.name === '')
      return fieldError('entity.name', '[blank]', 'You must specify the [entity.name] property.');
    if (typeof entity.type?.id !== 'string')
      return fieldError('entity.type.id', '[blank]', 'You must specify the [entity.type.id] property.');
    if (!entityTypes.has(entity.type.id)) return fieldError('entity.type.id', '[invalid]', 'The [entity.type.id] does not exist.');
    return undefined;
  };
  api.post('/entity/:id', (req, res) => {
    const id = String(req.params.id);
    const body = req.body as EntityBody;
    const problem = invalid(body);
    if (problem) return res.status(400).json(problem);
    if (entities.has(id)) return res.status(400).json(fieldError('entity.id', '[duplicate]', `An Entity with Id [${id}] already exists.`));
    const typeId = body.entity?.type?.id ?? '';
    const entity = addEntity({
      id,
      name: body.entity?.name ?? '',
      clientId: body.entity?.clientId || id,
      clientSecret: body.entity?.clientSecret || newSecret(),
      type: { id: typeId, name: entityTypes.get(typeId)?.name ?? '' },
      data: body.entity?.data ?? {},
    });
    res.json({ entity });
  });
  api.get('/entity/:id', (req, res) => {
    const entity = entities.get(String(req.params.id));
    if (!entity) return void res.status(404).end();
    res.json({ entity });
  });
  api.put('/entity/:id', (req, res) => {
    const entity = entities.get(String(req.params.id));
    if (!entity) return void res.status(404).end();
    const body = req.body as EntityBody;
    const problem = invalid(body);
    if (problem) return res.status(400).json(problem);
    const typeId = body.entity?.type?.id ?? '';
    const updated: FakeEntity = {
      ...entity,
      name: body.entity?.name ?? '',
      clientId: body.entity?.clientId || entity.clientId,
      // A PUT without a clientSecret keeps the current one.
      clientSecret: body.entity?.clientSecret || entity.clientSecret,
      type: { id: typeId, name: entityTypes.get(typeId)?.name ?? '' },
      data: body.entity?.data ?? {},
      lastUpdateInstant: Date.now(),
    };
    entities.set(entity.id, updated);
    res.json({ entity: updated });
  });
  // PATCH (FusionAuth 1.57.0 and later for entities): the fields sent are merged into the entity as it is, objects
  // (`data`) key by key, anything else replaced (RFC 7396 JSON merge patch, which FusionAuth also takes as
  // `application/merge-patch+json`); the result must still be a valid entity. A blank clientSecret keeps the current one.
  api.patch('/entity/:id', (req, res) => {
    if (versionBefore(version, ENTITY_PATCH_SINCE)) return void res.status(405).end();
    const entity = entities.get(String(req.params.id));
    if (!entity) return void res.status(404).end();
    // Fields an Entity does not have are not kept (FusionAuth binds the body to its Entity class).
    const patch = Object.fromEntries(
      Object.entries((req.body as { entity?: Record<string, unknown> }).entity ?? {}).filter(([field]) => ENTITY_FIELDS.includes(field)),
    );
    const merged = mergePatch(entity, patch) as FakeEntity;
    const problem = invalid({ entity: merged });
    if (problem) return res.status(400).json(problem);
    const typeId = merged.type.id;
    const updated: FakeEntity = {
      ...merged,
      id: entity.id,
      tenantId: entity.tenantId,
      insertInstant: entity.insertInstant,
      clientId: merged.clientId || entity.clientId,
      clientSecret: merged.clientSecret || entity.clientSecret,
      type: { id: typeId, name: entityTypes.get(typeId)?.name ?? '' },
      data: merged.data ?? {},
      lastUpdateInstant: Date.now(),
    };
    entities.set(entity.id, updated);
    res.json({ entity: updated });
  });
  api.delete('/entity/:id', (req, res) => {
    const id = String(req.params.id);
    if (!entities.delete(id)) return void res.status(404).end();
    for (const forTarget of grants.values()) forTarget.delete(id);
    grants.delete(id);
    res.status(200).end();
  });

  const server = await listenOnLoopback(app);
  return {
    url: server.origin,
    apiKey,
    readOnlyApiKey,
    version,
    api: apiDescription,
    tenantId,
    entityTypeId,
    targetEntityId,
    requests: kit.requests,
    faults: kit,
    failNext: kit.failNext,
    entity: (entityId) => entities.get(entityId),
    grantedPermissions: (recipientEntityId) => grants.get(targetEntityId)?.get(recipientEntityId),
    entityCount: () => entities.size,
    editEntityData(entityId, data) {
      const entity = entities.get(entityId);
      if (!entity) throw new Error(`no entity ${entityId}`);
      entities.set(entityId, { ...entity, data: { ...entity.data, ...data }, lastUpdateInstant: Date.now() });
    },
    createForeignEntity(name = 'Made in the admin UI') {
      const id = randomUUID();
      addEntity({ id, name, clientId: id, clientSecret: newSecret(), type: { id: entityTypeId, name: 'Konnect application' }, data: {} });
      return id;
    },
    async clientCredentials(clientId, clientSecret, scope) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
      if (scope !== undefined) form.set('scope', scope);
      const res = await fetch(`${server.origin}/oauth2/token`, { method: 'POST', body: form });
      return res.ok;
    },
    close: server.close,
  };
}
