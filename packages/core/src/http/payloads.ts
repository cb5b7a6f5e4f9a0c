import type { ClientEvent, ClientRegistration, EventApplication, KonnectReferences, OAuthGrantType } from '../contract.js';
import { BridgeError } from '../errors.js';
import { validateApplicationPayload, validateEventHook } from './request-validators.generated.js';

/**
 * Reads Konnect's request bodies into the contract's types. The shape (what is required, the types, non-empty strings,
 * the known grant types and event types) is the served OpenAPI document's (openapi.json, compiled by ajv into
 * request-validators.generated.ts), so the document and the checks cannot drift. Each problem is answered as before:
 * invalid_request (invalid_client_metadata for an unknown grant type) naming the field. Unknown fields are tolerated
 * (Konnect has added fields before the spec listed them); id fields accept any non-empty string: the "Verify" button
 * of a DCR provider sends `portal_id: "test portal_id"`. What a schema cannot say follows the schema check here:
 * Konnect's auth-method names as grants, redirect URI checks, de-duplication, the path's client id in the body.
 */

/** The document's `KonnectId` fields. */
interface KonnectIds {
  portal_id: string;
  organization_id: string;
  developer_id: string;
  auth_strategy_id: string;
  dcr_provider_id: string;
}

/** The document's `GrantType`: an OAuth grant type or Konnect's auth-method name `bearer`. */
type KonnectGrantType = OAuthGrantType | 'bearer';

/** The fields of the document's `ApplicationPayload` this module reads (a test checks each is in the document). */
interface ApplicationPayload extends KonnectIds {
  redirect_uris: string[];
  client_name: string;
  grant_types: KonnectGrantType[];
  scopes: string[];
  token_endpoint_auth_method: string;
  application_description: string;
}

/** The fields of the document's `EventHook` this module reads: `EventHookBase` and one of its three event types. */
type EventHook = KonnectIds & {
  client_id: string;
  application_id: string;
  application_name: string;
  application_description: string;
} & (
    | { event_type: 'update_application'; redirect_uris: string[] }
    | { event_type: 'add_registration' | 'remove_registration'; api_product_version_id: string; audience?: string | null }
  );

/** The fields of ajv's ErrorObject read here. */
interface SchemaProblem {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}

type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaProblem[] | null };

/** Konnect's names for its auth methods that are no OAuth grant → the OAuth grant the IdP must allow. */
const KONNECT_GRANT_ALIASES: Partial<Record<KonnectGrantType, OAuthGrantType>> = { bearer: 'client_credentials' };

export function parseRegistration(body: unknown): ClientRegistration {
  const payload = conforming<ApplicationPayload>(validateApplicationPayload as SchemaValidator, body);
  checkRedirectUris(payload.redirect_uris);
  return {
    clientName: payload.client_name,
    description: payload.application_description,
    redirectUris: unique(payload.redirect_uris),
    grantTypes: unique(payload.grant_types.map((grant) => KONNECT_GRANT_ALIASES[grant] ?? (grant as OAuthGrantType))),
    requestedGrantTypes: payload.grant_types,
    scopes: unique(payload.scopes),
    tokenEndpointAuthMethod: payload.token_endpoint_auth_method,
    konnect: konnectReferences(payload),
  };
}

export function parseEvent(body: unknown, clientId: string): ClientEvent {
  const event = conforming<EventHook>(validateEventHook as SchemaValidator, body);
  if (event.client_id !== clientId) {
    throw new BridgeError(
      'invalid_request',
      `client_id in the body ("${event.client_id}") does not match the client id in the path ("${clientId}").`,
    );
  }
  const application: EventApplication = {
    ...konnectReferences(event),
    applicationId: event.application_id,
    applicationName: event.application_name,
    applicationDescription: event.application_description,
  };
  if (event.event_type === 'update_application') {
    checkRedirectUris(event.redirect_uris);
    return { type: event.event_type, redirectUris: unique(event.redirect_uris), application };
  }
  return {
    type: event.event_type,
    apiProductVersionId: event.api_product_version_id,
    ...(event.audience ? { audience: event.audience } : {}),
    application,
  };
}

/** A client id from the path: non-empty, printable, at most 512 characters, not a dot segment. */
export function parseClientId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 512 || hasControlCharacter(value) || value === '.' || value === '..') {
    throw new BridgeError('invalid_request', 'The client id in the path is not a valid client id.');
  }
  return value;
}

function hasControlCharacter(value: string): boolean {
  return [...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
}

function konnectReferences(ids: KonnectIds): KonnectReferences {
  return {
    portalId: ids.portal_id,
    organizationId: ids.organization_id,
    developerId: ids.developer_id,
    authStrategyId: ids.auth_strategy_id,
    dcrProviderId: ids.dcr_provider_id,
  };
}

/** The body as its schema types it, or the first problem the schema finds, in words naming the field. */
function conforming<T>(validate: SchemaValidator, body: unknown): T {
  if (validate(body)) return body as T;
  const problem = validate.errors?.[0];
  throw problem ? describeProblem(problem, body) : new BridgeError('invalid_request', 'The request body does not match the API.');
}

function describeProblem(problem: SchemaProblem, body: unknown): BridgeError {
  const invalid = (message: string) => new BridgeError('invalid_request', message);
  const segments = problem.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (problem.keyword === 'required') return invalid(`${String(problem.params.missingProperty)} is required.`);
  if (segments.length === 0) return invalid('The request body must be a JSON object.');
  const field = segments.map((segment, index) => (index === 0 ? segment : /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`)).join('');
  const value = segments.reduce<unknown>((node, segment) => (node as Record<string, unknown>)[segment], body);
  const isItem = /^\d+$/.test(segments.at(-1) ?? '');
  const blank = typeof value === 'string' && value.trim() === '';
  if (isItem && (problem.keyword === 'type' || blank)) return invalid(`${field} must be a non-empty string.`);
  if (value === null) return invalid(`${field} is required.`);
  if (problem.keyword === 'type')
    return invalid(`${field} must be ${problem.params.type === 'array' ? 'an array of strings' : 'a string'}.`);
  if (blank || problem.keyword === 'minItems') return invalid(`${field} must not be empty.`);
  if (problem.keyword === 'enum' && segments[0] === 'grant_types') {
    return new BridgeError(
      'invalid_client_metadata',
      `${field} "${String(value)}" is not a grant type the bridge knows (expected bearer, client_credentials, authorization_code, refresh_token, implicit, password or an OAuth grant URN).`,
    );
  }
  if (problem.keyword === 'enum') {
    return invalid(`${field} "${String(value)}" is not one of ${(problem.params.allowedValues as unknown[]).join(', ')}.`);
  }
  return invalid(`${field} does not match the API (${problem.keyword}).`);
}

/** Schemes that run code or read local content in a browser: never a place to send an authorization code. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);

function checkRedirectUris(uris: string[]): void {
  uris.forEach((uri, index) => checkRedirectUri(uri, `redirect_uris[${index}]`));
}

function checkRedirectUri(uri: string, field: string): void {
  // Checked on the raw string: the URL parser silently drops tabs and line breaks before it parses.
  if (hasControlCharacter(uri) || /\s/.test(uri)) {
    throw new BridgeError('invalid_redirect_uri', `${field} must not contain white space or control characters.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new BridgeError('invalid_redirect_uri', `${field} "${uri}" is not an absolute URI.`);
  }
  if (parsed.hash !== '' || uri.includes('#')) {
    throw new BridgeError('invalid_redirect_uri', `${field} "${uri}" must not contain a fragment (RFC 6749 §3.1.2).`);
  }
  if (FORBIDDEN_SCHEMES.has(parsed.protocol)) {
    throw new BridgeError('invalid_redirect_uri', `${field} uses the scheme "${parsed.protocol}", which can never be a redirect URI.`);
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
