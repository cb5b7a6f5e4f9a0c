import {
  BridgeError,
  defineDcrAdapter,
  lifecycleSettings,
  type LifecycleSettings,
  generateSecret,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type Logger,
  type OperationContext,
} from '@dcr-bridge/core';
import { createIdpHttpClient, path, staticAuthorization, type Dispatcher, type IdpHttpClient } from '@dcr-bridge/core/idp';
import { fusionauthDiagnostics } from './diagnostics.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import {
  MANAGED,
  describeFusionauthErrors,
  entityIdFor,
  entityNameFor,
  entityUpdate,
  isManaged,
  newEntity,
  type FusionauthEntity,
} from './mapping.js';

export interface FusionauthAdapterOptions extends LifecycleSettings {
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
  /** Where IdP calls go (undici): a private CA's Agent, or undici's MockAgent. Default: a keep-alive pool of the adapter's own. */
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Ceiling of one request to FusionAuth; default 30 000 ms (the operation's budget usually ends it first). */
  timeoutMs?: number;
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

  const readEntity = async (entityId: string, context: OperationContext) =>
    (await http.find<{ entity: FusionauthEntity }>(entityPath(entityId), `reading entity ${entityId}`, { signal: context.signal }))?.entity;

  async function writeEntity(entity: FusionauthEntity, body: unknown, action: string, context: OperationContext): Promise<void> {
    // A PUT of a whole entity the bridge composed (and of a secret it generated): repeating it changes nothing more.
    const response = await http.put(entityPath(entity.id), { json: body, signal: context.signal, idempotent: true });
    if (!response.ok) throw http.refusal(response, action);
  }

  const primitives: IdpPrimitives<FusionauthEntity> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: `entity data entry ${MANAGED}: true`,
    readsCurrent: ['rotateSecret', 'replaceRedirectUris'],

    find: (clientId, context) => readEntity(clientId, context),
    isOurs: isManaged,

    async create(registration, context) {
      const body = newEntity(registration, context.nonce, options.entityTypeId);
      await checkScopes(http, options.targetEntityId, registration.scopes, context);
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

    async rotateSecret(clientId, entity, context) {
      // FusionAuth stores a clientSecret given in a PUT; the previous one stops working with it.
      const clientSecret = generateSecret();
      await writeEntity(entity, entityUpdate(entity, { clientSecret }), `the new secret of ${clientId}`, context);
      return clientSecret;
    },

    async replaceRedirectUris(clientId, entity, redirectUris, context) {
      // An Entity has no redirect URIs of its own: Konnect's are recorded in its data, next to the marker.
      const data = { ...entity.data, redirectUris };
      await writeEntity(entity, entityUpdate(entity, { data }), `the new redirect URIs of ${clientId}`, context);
    },

    checkReady: (context) =>
      http.probe(path`/api/entity/type/${options.entityTypeId}`, 'reading the entity type of the bridge', { signal: context.signal }),
    diagnostics: fusionauthDiagnostics({ http, baseUrl, entityTypeId: options.entityTypeId, targetEntityId: options.targetEntityId }),
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

/** Konnect's scopes are permissions of the target entity's type: every one must exist before anything is created. */
async function checkScopes(
  http: IdpHttpClient,
  targetEntityId: string | undefined,
  scopes: string[],
  context: OperationContext,
): Promise<void> {
  if (scopes.length === 0) return;
  if (targetEntityId === undefined)
    throw new BridgeError(
      'invalid_scope',
      `Scopes need a target entity whose permissions they are: set FUSIONAUTH_TARGET_ENTITY_ID, or register without scopes.`,
    );
  const target = await http.get<{ entity?: { type?: { id?: unknown } } }>(path`/api/entity/${targetEntityId}`, { signal: context.signal });
  const typeId = target.body?.entity?.type?.id;
  if (!target.ok || typeof typeId !== 'string') throw http.errorFromResponse(target, `reading the target entity ${targetEntityId}`);
  const type = await http.get<EntityTypeAnswer>(path`/api/entity/type/${typeId}`, { signal: context.signal });
  if (!type.ok || !Array.isArray(type.body?.entityType?.permissions)) throw http.errorFromResponse(type, `reading entity type ${typeId}`);
  const known = new Set(type.body.entityType.permissions.map((permission) => permission.name));
  const unknown = scopes.filter((scope) => !known.has(scope));
  if (unknown.length > 0)
    throw new BridgeError(
      'invalid_scope',
      `The entity type of ${IDP_NAME}'s target entity has no permission${unknown.length > 1 ? 's' : ''} ${unknown.map((scope) => `"${scope}"`).join(', ')}.`,
    );
}
