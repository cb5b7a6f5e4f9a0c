import {
  BridgeError,
  defineDcrAdapter,
  lifecycleSettings,
  type CommonAdapterOptions,
  generateSecret,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type OperationContext,
} from '@dcr-bridge/core';
import { createIdpHttpClient, path, staticAuthorization, type IdpHttpClient } from '@dcr-bridge/core/idp';
import { fusionauthDiagnostics } from './diagnostics.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import {
  MANAGED,
  describeFusionauthErrors,
  entityIdFor,
  entityNameFor,
  entityUpdate,
  isEntityId,
  isManaged,
  newEntity,
  REGISTRATION,
  type FusionauthEntity,
} from './mapping.js';

export interface FusionauthAdapterOptions extends CommonAdapterOptions {
  /** Base URL of FusionAuth (the API lives under `/api`, the token endpoint at `/oauth2/token`). */
  baseUrl: string;
  /** The API key the bridge calls FusionAuth with, sent as the Authorization header as is. */
  apiKey: string;
  /** The tenant the bridge's entities live in, sent as X-FusionAuth-TenantId; needed once FusionAuth has several tenants (unless the key is tenant-locked). */
  tenantId?: string;
  /** The Entity Type of the entities the bridge creates for Konnect's applications. */
  entityTypeId: string;
  /**
   * The entity that stands for the APIs Konnect protects. When set, every client gets a grant on it carrying its
   * Konnect scopes as permissions (checked against the permissions of that entity's type before anything is created).
   */
  targetEntityId?: string;
}

interface EntityTypeAnswer {
  entityType?: { permissions?: Array<{ name?: unknown }> };
}

const entityPath = (entityId: string) => path`/api/entity/${entityId}`;

export function createFusionauthAdapter(options: FusionauthAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl,
    // FusionAuth takes the API key itself as the Authorization header, without a scheme.
    authorization: staticAuthorization(options.apiKey),
    headers: options.tenantId ? { 'X-FusionAuth-TenantId': options.tenantId } : undefined,
    describeErrorBody: describeFusionauthErrors,
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });

  /**
   * The secret each read of an entity carried, for `secretValue.read` in the same operation (core passes the
   * same context to `find` and to the read after it): a rotation needs no second read. Kept by operation, so an
   * entity core remembers from an earlier operation never yields a secret read then; never in the entity itself.
   */
  const secretsRead = new WeakMap<OperationContext, Map<string, string>>();

  /**
   * `GET /api/entity/{id}`: the entity without its secret (kept for this operation's `secretValue.read`). An id that
   * is not a UUID is no entity, known without a call: FusionAuth would refuse it with a 400, which is no answer to
   * "is it there" (so core deletes it as already gone, and rotates or updates it as not found).
   */
  async function readEntity(entityId: string, context: OperationContext): Promise<FusionauthEntity | undefined> {
    if (!isEntityId(entityId)) return undefined;
    const entity = (
      await http.find<{ entity: FusionauthEntity }>(entityPath(entityId), `reading entity ${entityId}`, { signal: context.signal })
    )?.entity;
    if (entity === undefined) return undefined;
    const { clientSecret, ...kept } = entity;
    if (typeof clientSecret === 'string') {
      const read = secretsRead.get(context) ?? new Map<string, string>();
      read.set(entityId, clientSecret);
      secretsRead.set(context, read);
    }
    return kept;
  }

  /** The entity's secret as FusionAuth holds it now: the one this operation's read carried, else a read. */
  async function currentSecret(entityId: string, context: OperationContext): Promise<string> {
    const read = secretsRead.get(context);
    const known = read?.get(entityId);
    if (known !== undefined) {
      // Once: a later read in this operation (after a write) asks FusionAuth again.
      read?.delete(entityId);
      return known;
    }
    if ((await readEntity(entityId, context)) === undefined) throw new BridgeError('not_found', `${IDP_NAME} has no entity ${entityId}.`);
    const secret = secretsRead.get(context)?.get(entityId);
    secretsRead.get(context)?.delete(entityId);
    if (secret === undefined)
      throw new BridgeError('idp_error', `${IDP_NAME} answered the read of entity ${entityId} without its clientSecret.`);
    return secret;
  }

  /**
   * `PATCH /api/entity/{id}` of the secret alone (FusionAuth 1.57.0 and later): nothing else of the entity is
   * written. Repeating it leaves FusionAuth as one call would, so the HTTP client may retry it: a rotation whose
   * answer was lost is then repeated, and Konnect gets the secret it sets; where the repeat fails too, core's
   * restore puts Konnect's secret back.
   */
  async function patchSecret(entityId: string, clientSecret: string, action: string, context: OperationContext): Promise<void> {
    const response = await http.request('PATCH', entityPath(entityId), {
      json: { entity: { clientSecret } },
      signal: context.signal,
      idempotent: true,
    });
    // A FusionAuth older than 1.57.0 has no PATCH on an entity: a clear refusal, nothing changed (so core has no
    // secret to put back and does not try again).
    if (response.status === 405)
      throw new BridgeError(
        'unsupported_operation',
        `${IDP_NAME} answered 405 to PATCH /api/entity/{id} (${action}): it is older than 1.57.0, which rotation needs. Upgrade ${IDP_NAME}.`,
        {
          publicDescription: `The identity provider's version cannot rotate this application's secret; nothing was changed. Ask your platform team.`,
        },
      );
    if (!response.ok) throw http.refusal(response, action);
  }

  async function writeEntity(entity: FusionauthEntity, body: unknown, action: string, context: OperationContext): Promise<void> {
    // A PUT of a whole entity the bridge composed (and of a secret it generated): repeating it changes nothing more.
    const response = await http.put(entityPath(entity.id), { json: body, signal: context.signal, idempotent: true });
    if (!response.ok) throw http.refusal(response, action);
  }

  const primitives: IdpPrimitives<FusionauthEntity> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: `entity data entry ${MANAGED}: true`,
    find: (clientId, context) => readEntity(clientId, context),
    isOurs: isManaged,
    registration: {
      ...REGISTRATION,
      scopes: {
        kind: 'looked-up',
        where: "permissions of the target entity's type",
        find: (names, context) => findScopes(http, options.targetEntityId, names, context),
      },
    },

    async create(registration, context) {
      const body = newEntity(registration, context.nonce, options.entityTypeId);
      const entityId = entityIdFor(context.nonce);
      const response = await http.post<{ entity?: FusionauthEntity }>(entityPath(entityId), { json: body, signal: context.signal });
      const entity = response.body?.entity;
      if (!response.ok || typeof entity?.clientId !== 'string') throw http.refusal(response, 'the new entity');
      const { clientSecret, ...remembered } = entity;
      // The entity exists from here on: core deletes it if anything below fails.
      await context.created(entity.clientId, remembered);
      if (typeof clientSecret !== 'string')
        throw new BridgeError('idp_error', `${IDP_NAME} created entity ${entity.id} but its answer carried no clientSecret.`);
      if (options.targetEntityId !== undefined) await grant(options.targetEntityId, entity.id, registration.scopes, context);
      return { clientId: entity.clientId, clientSecret };
    },

    async findByNonce(nonce, draft, context) {
      // The create chose the entity id from the nonce: one exact read, kept to the exact name and the marker.
      const entity = await readEntity(entityIdFor(nonce), context);
      if (entity === undefined || entity.name !== entityNameFor(draft.clientName, nonce) || !isManaged(entity)) return undefined;
      return { clientId: entity.clientId, client: entity };
    },

    async remove(clientId, _entity, context) {
      const response = await http.delete(entityPath(clientId), { signal: context.signal });
      if (!response.ok && response.status !== 404) throw http.errorFromResponse(response, `deleting entity ${clientId}`);
    },

    async rotateSecret(clientId, _entity, context) {
      // FusionAuth stores a clientSecret it is given; the previous one stops working with it.
      const clientSecret = generateSecret();
      await patchSecret(clientId, clientSecret, `the new secret of ${clientId}`, context);
      return clientSecret;
    },

    // Restore: FusionAuth returns an entity's clientSecret and stores one it is given, so core can put back the
    // secret Konnect holds when Konnect did not get a new one.
    secretValue: {
      read: (clientId, _entity, context) => currentSecret(clientId, context),
      set: (clientId, _entity, secret, context) => patchSecret(clientId, secret, `the secret Konnect holds for ${clientId}`, context),
    },

    async replaceRedirectUris(clientId, _remembered, redirectUris, context) {
      // An Entity has no redirect URIs of its own: Konnect's are recorded in its data, next to the marker. The
      // PUT replaces the whole entity, so it starts from the entity as FusionAuth holds it now (the secret is
      // a PATCH of its own, and not part of it).
      const entity = await context.current();
      const data = { ...entity.data, redirectUris };
      await writeEntity(entity, entityUpdate(entity, { data }), `the new redirect URIs of ${clientId}`, context);
    },

    checkReady: (context) =>
      http.probe(path`/api/entity/type/${options.entityTypeId}`, 'reading the entity type of the bridge', { signal: context.signal }),
    diagnostics: fusionauthDiagnostics({
      http,
      baseUrl,
      entityTypeId: options.entityTypeId,
      targetEntityId: options.targetEntityId,
      settingNames: options.settingNames,
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger });

  async function grant(targetEntityId: string, recipientEntityId: string, permissions: string[], context: OperationContext): Promise<void> {
    // The Grant API is an upsert: repeating it leaves the same grant.
    const response = await http.post(path`/api/entity/${targetEntityId}/grant`, {
      json: { grant: { recipientEntityId, permissions } },
      signal: context.signal,
      idempotent: true,
    });
    if (!response.ok) throw http.refusal(response, `the grant of entity ${recipientEntityId} on entity ${targetEntityId}`);
  }
}

/**
 * The requested scopes that are permissions of the target entity's type (core refuses the others before anything
 * is created). Without a target entity no scope can be held.
 */
async function findScopes(
  http: IdpHttpClient,
  targetEntityId: string | undefined,
  scopes: readonly string[],
  context: OperationContext,
): Promise<Map<string, string>> {
  if (targetEntityId === undefined)
    throw new BridgeError(
      'invalid_scope',
      `Scopes need a target entity whose permissions they are: set the adapter's targetEntityId, or register without scopes.`,
    );
  const target = await http.get<{ entity?: { type?: { id?: unknown } } }>(path`/api/entity/${targetEntityId}`, { signal: context.signal });
  const typeId = target.body?.entity?.type?.id;
  if (!target.ok || typeof typeId !== 'string') throw http.errorFromResponse(target, `reading the target entity ${targetEntityId}`);
  const type = await http.get<EntityTypeAnswer>(path`/api/entity/type/${typeId}`, { signal: context.signal });
  if (!type.ok || !Array.isArray(type.body?.entityType?.permissions)) throw http.errorFromResponse(type, `reading entity type ${typeId}`);
  const known = type.body.entityType.permissions
    .map((permission) => permission.name)
    .filter((name): name is string => typeof name === 'string' && scopes.includes(name));
  return new Map(known.map((name) => [name, name]));
}
