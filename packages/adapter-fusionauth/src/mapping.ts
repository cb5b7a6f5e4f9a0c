import { createHash } from 'node:crypto';
import { uniqueName, type ClientRegistration, type RegistrationRules } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

// Konnect → FusionAuth. FusionAuth's client_credentials grant belongs to Entity Management, not to
// Applications (https://fusionauth.io/docs/lifecycle/authenticate-users/oauth: "To begin using the Client
// Credentials grant, start by configuring Entities"), so a Konnect application becomes an Entity whose
// clientId is its entity id and whose clientSecret FusionAuth generates.

/** What the bridge keeps in an entity's `data` object (https://fusionauth.io/docs/apis/entities/entities). */
export interface BridgeData {
  /** The ownership marker. */
  dcrBridgeManaged?: unknown;
  konnect?: unknown;
  description?: string;
  /** Konnect's redirect URIs, recorded only: an Entity has no redirect-based flow. */
  redirectUris?: string[];
  /** The Konnect scopes: permissions of the entity type, to be granted on a target entity. */
  scopes?: string[];
  [key: string]: unknown;
}

/** An Entity as FusionAuth's Entity API returns it (`{entity: …}`), as much as the adapter reads. */
export interface FusionauthEntity {
  id: string;
  name: string;
  clientId: string;
  clientSecret?: string;
  tenantId?: string;
  type: { id: string; name?: string };
  data?: BridgeData;
  insertInstant?: number;
  lastUpdateInstant?: number;
}

/** The ownership marker: an entry of the entity's `data` object. */
export const MANAGED = 'dcrBridgeManaged';
/** What an Entity accepts: it only takes part in the client_credentials grant; its scopes are read at each create (see adapter.ts). */
export const REGISTRATION: Omit<RegistrationRules, 'scopes'> = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} entities`,
  authMethods: ['client_secret_basic', 'client_secret_post'],
  grantTypes: ['client_credentials'],
};

export const isManaged = (entity: FusionauthEntity) => entity.data?.[MANAGED] === true;

/** The entity's name: Konnect's application name with the create nonce as its unique suffix. */
export const entityNameFor = (clientName: string, nonce: string) => uniqueName(clientName, { suffix: nonce });

/**
 * The entity id a create with this nonce uses. FusionAuth takes the id from the caller (`POST /api/entity/{entityId}`),
 * so the id follows from the nonce and `findByNonce` is one exact read, without a search (which needs Elasticsearch).
 * The 8-character nonce is random; the UUID's version nibble is 8 (custom, RFC 9562) and its variant bits are RFC's.
 */
export function entityIdFor(nonce: string): string {
  const hex = createHash('sha256').update(`dcr-bridge:${nonce}`).digest('hex').slice(0, 32).split('');
  hex[12] = '8';
  hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const ENTITY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a client id can be the id of an entity the bridge created. FusionAuth's entity ids are UUIDs (it answers
 * 400 `[couldNotConvert]entityId` for anything else), and the bridge hands Konnect the entity id FusionAuth answered
 * with, in its 8-4-4-4-12 form: any other id is no client of the bridge's, known without asking FusionAuth.
 */
export const isEntityId = (clientId: string) => ENTITY_ID.test(clientId);

/** The body of `POST /api/entity/{entityId}`: no clientId (FusionAuth uses the entity id) and no clientSecret (FusionAuth generates one). */
export function newEntity(registration: ClientRegistration, nonce: string, entityTypeId: string): { entity: Record<string, unknown> } {
  const data: BridgeData = {
    [MANAGED]: true,
    konnect: registration.konnect,
    redirectUris: registration.redirectUris,
    scopes: registration.scopes,
  };
  if (registration.description) data.description = registration.description;
  return { entity: { name: entityNameFor(registration.clientName, nonce), type: { id: entityTypeId }, data } };
}

/**
 * The body of a `PUT /api/entity/{entityId}`: the entity as read, without its secret (a PUT without one keeps the
 * current secret, per the Entity API), with the given changes.
 */
export function entityUpdate(entity: FusionauthEntity, changes: { data?: BridgeData }): { entity: Record<string, unknown> } {
  const { clientSecret: _readSecret, ...kept } = entity;
  return { entity: { ...kept, ...changes } };
}

/** FusionAuth's Errors object (https://fusionauth.io/docs/apis/errors): general and per-field messages. */
export function describeFusionauthErrors(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { generalErrors, fieldErrors } = body as {
    generalErrors?: Array<{ message?: unknown }>;
    fieldErrors?: Record<string, Array<{ message?: unknown }>>;
  };
  const messages = [
    ...(Array.isArray(generalErrors) ? generalErrors.map((error) => error.message) : []),
    ...Object.entries(fieldErrors ?? {}).flatMap(([field, errors]) =>
      Array.isArray(errors) ? errors.map((error) => `${field}: ${String(error.message)}`) : [],
    ),
  ].filter((message): message is string => typeof message === 'string');
  return messages.length > 0 ? messages.join(' ') : undefined;
}
