import type { ClientEvent, ClientRegistration, EventApplication, KonnectReferences, OAuthGrantType } from '../contract.js';
import { BridgeError } from '../errors.js';

/**
 * Reads Konnect's request bodies into the contract's types. It checks what the spec requires and the
 * types of what it reads, names the field in every error, and tolerates fields it does not know (Konnect
 * has added fields before the spec listed them). Id fields accept any non-empty string: the "Verify"
 * button of a DCR provider sends `portal_id: "test portal_id"`.
 */
type Body = Record<string, unknown>;

/** Konnect's names for its auth methods → the OAuth grant the IdP must allow. */
const KONNECT_GRANT_ALIASES: Record<string, OAuthGrantType> = {
  client_credentials: 'client_credentials',
  bearer: 'client_credentials',
};

const OAUTH_GRANTS = new Set<OAuthGrantType>([
  'client_credentials',
  'authorization_code',
  'refresh_token',
  'implicit',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:token-exchange',
]);

export function parseRegistration(body: unknown): ClientRegistration {
  const record = asObject(body);
  const requestedGrantTypes = stringArray(record, 'grant_types', { nonEmpty: true });
  const redirectUris = stringArray(record, 'redirect_uris');
  redirectUris.forEach((uri, index) => checkRedirectUri(uri, `redirect_uris[${index}]`));
  return {
    clientName: requiredString(record, 'client_name'),
    description: string(record, 'application_description'),
    redirectUris: unique(redirectUris),
    grantTypes: unique(requestedGrantTypes.map((grant, index) => toOAuthGrant(grant, index))),
    requestedGrantTypes,
    scopes: unique(stringArray(record, 'scopes')),
    tokenEndpointAuthMethod: requiredString(record, 'token_endpoint_auth_method'),
    konnect: konnectReferences(record),
  };
}

export function parseEvent(body: unknown, clientId: string): ClientEvent {
  const record = asObject(body);
  const type = requiredString(record, 'event_type');
  const bodyClientId = requiredString(record, 'client_id');
  if (bodyClientId !== clientId) {
    throw new BridgeError(
      'invalid_request',
      `client_id in the body ("${bodyClientId}") does not match the client id in the path ("${clientId}").`,
    );
  }
  const application: EventApplication = {
    ...konnectReferences(record),
    applicationId: requiredString(record, 'application_id'),
    applicationName: requiredString(record, 'application_name'),
    applicationDescription: string(record, 'application_description'),
  };
  switch (type) {
    case 'update_application': {
      const redirectUris = stringArray(record, 'redirect_uris');
      redirectUris.forEach((uri, index) => checkRedirectUri(uri, `redirect_uris[${index}]`));
      return { type, redirectUris: unique(redirectUris), application };
    }
    case 'add_registration':
    case 'remove_registration': {
      const audience = optionalString(record, 'audience');
      return {
        type,
        apiProductVersionId: requiredString(record, 'api_product_version_id'),
        ...(audience ? { audience } : {}),
        application,
      };
    }
    default:
      throw new BridgeError(
        'invalid_request',
        `event_type "${type}" is not one of update_application, add_registration, remove_registration.`,
      );
  }
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

function konnectReferences(record: Body): KonnectReferences {
  return {
    portalId: requiredString(record, 'portal_id'),
    organizationId: requiredString(record, 'organization_id'),
    developerId: requiredString(record, 'developer_id'),
    authStrategyId: requiredString(record, 'auth_strategy_id'),
    dcrProviderId: requiredString(record, 'dcr_provider_id'),
  };
}

function toOAuthGrant(grant: string, index: number): OAuthGrantType {
  const alias = KONNECT_GRANT_ALIASES[grant];
  if (alias) return alias;
  if (OAUTH_GRANTS.has(grant as OAuthGrantType)) return grant as OAuthGrantType;
  throw new BridgeError(
    'invalid_client_metadata',
    `grant_types[${index}] "${grant}" is not a grant type the bridge knows (expected bearer, client_credentials, authorization_code, refresh_token, implicit, password or an OAuth grant URN).`,
  );
}

/** Schemes that run code or read local content in a browser: never a place to send an authorization code. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);

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

function asObject(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BridgeError('invalid_request', 'The request body must be a JSON object.');
  }
  return body as Body;
}

function requiredString(record: Body, field: string): string {
  const value = record[field];
  if (value === undefined || value === null) throw new BridgeError('invalid_request', `${field} is required.`);
  if (typeof value !== 'string') throw new BridgeError('invalid_request', `${field} must be a string.`);
  if (value.trim() === '') throw new BridgeError('invalid_request', `${field} must not be empty.`);
  return value;
}

/** Required by the spec, but may be empty (an application without a description). */
function string(record: Body, field: string): string {
  const value = record[field];
  if (value === undefined || value === null) throw new BridgeError('invalid_request', `${field} is required.`);
  if (typeof value !== 'string') throw new BridgeError('invalid_request', `${field} must be a string.`);
  return value;
}

function optionalString(record: Body, field: string): string | undefined {
  const value = record[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new BridgeError('invalid_request', `${field} must be a string.`);
  return value;
}

function stringArray(record: Body, field: string, options: { nonEmpty?: boolean } = {}): string[] {
  const value = record[field];
  if (value === undefined || value === null) throw new BridgeError('invalid_request', `${field} is required.`);
  if (!Array.isArray(value)) throw new BridgeError('invalid_request', `${field} must be an array of strings.`);
  value.forEach((item, index) => {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new BridgeError('invalid_request', `${field}[${index}] must be a non-empty string.`);
    }
  });
  if (options.nonEmpty && value.length === 0) throw new BridgeError('invalid_request', `${field} must not be empty.`);
  return value as string[];
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
