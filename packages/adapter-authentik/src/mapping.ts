import { uniqueName, type ClientRegistration, type RegistrationRules } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

// Konnect → authentik: a Konnect registration becomes an OAuth2 provider (which holds the client id, the
// secret and the redirect URIs) and an application that exposes it (authentik's token endpoint refuses a
// provider without one). What marks a client as the bridge's, and authentik's error bodies.

/** One redirect URI entry of an OAuth2 provider (authentik 2024.8 and later). */
export interface AuthentikRedirectUri {
  matching_mode: 'strict' | 'regex';
  url: string;
}

/** An OAuth2 provider as `GET /api/v3/providers/oauth2/` returns it, as much as the adapter reads. */
export interface AuthentikProvider {
  /** authentik's integer id of the provider: the paths of its updates and of its deletion. */
  pk: number;
  name: string;
  client_id: string;
  client_type?: string;
  redirect_uris?: AuthentikRedirectUri[];
  property_mappings?: string[];
  assigned_application_slug?: string | null;
  /** The grants the token and authorize views accept for this provider (authentik 2026.5 and later; absent before). */
  grant_types?: string[];
}

/** A scope mapping as `GET /api/v3/propertymappings/provider/scope/` returns it. */
export interface AuthentikScopeMapping {
  pk: string;
  name: string;
  scope_name: string;
}

/** One page of an authentik list (`authentik.api.pagination.Pagination`): `next` is 0 on the last page. */
export interface AuthentikPage<Item> {
  pagination: { next: number; previous: number; count: number; current: number; total_pages: number };
  results: Item[];
}

/** The flows every provider needs (`authorization_flow` and, since authentik 2024.10, `invalidation_flow`). */
export interface AuthentikFlows {
  authorizationFlow: string;
  invalidationFlow: string;
}

/**
 * The ownership marker: a provider the bridge creates is named `dcr-bridge: <its client id>`. An OAuth2
 * provider has no free metadata field; its name is the only text the bridge can set on it.
 */
export const PROVIDER_NAME_PREFIX = 'dcr-bridge: ';
/** What the application the bridge creates names as its publisher (shown in authentik's admin interface). */
export const PUBLISHER = 'dcr-bridge';
/** authentik's application slugs are Django SlugFields of at most 50 characters; the client id doubles as the slug. */
const SLUG_MAX_LENGTH = 50;

export const providerNameFor = (clientId: string) => `${PROVIDER_NAME_PREFIX}${clientId}`;
export const isManaged = (provider: AuthentikProvider) => provider.name === providerNameFor(provider.client_id);

/** The client id (and the application's slug): the application name's slug with the create nonce as its unique suffix. */
export const clientIdFor = (clientName: string, nonce: string) => uniqueName(clientName, { suffix: nonce, maxLength: SLUG_MAX_LENGTH });

/** authentik's redirect URI entries, matched exactly (never as regular expressions). */
export const redirectUriEntries = (redirectUris: string[]): AuthentikRedirectUri[] =>
  redirectUris.map((url) => ({ matching_mode: 'strict', url }));

/** The provider as the bridge keeps it: authentik's answers carry the secret, which nothing after the answer needs. */
export function withoutSecret(provider: AuthentikProvider & { client_secret?: unknown }): AuthentikProvider {
  const copy = { ...provider };
  delete copy.client_secret;
  return copy;
}

/** What an authentik OAuth2 provider accepts; its scopes are the scope mappings, read at each create (see adapter.ts). */
export const REGISTRATION: Omit<RegistrationRules, 'scopes'> = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} OAuth2 providers`,
  authMethods: ['client_secret_basic', 'client_secret_post'],
  grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
};

/** The scope mappings (their pks) that serve each scope asked for, by scope name; core refuses a name none serves. */
export function scopeMappingsFor(scopes: readonly string[], mappings: AuthentikScopeMapping[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const mapping of mappings)
    if (scopes.includes(mapping.scope_name)) found.set(mapping.scope_name, [...(found.get(mapping.scope_name) ?? []), mapping.pk]);
  return found;
}

/**
 * The body of `POST /api/v3/providers/oauth2/`: a confidential client with the bridge's secret and the marker as its name.
 * `grantTypes`: authentik 2026.5 and later only (see `grantTypesFor`); older authentik has no such field.
 */
export function newProvider(
  clientId: string,
  clientSecret: string,
  registration: ClientRegistration,
  scopeMappings: string[],
  flows: AuthentikFlows,
  grantTypes?: string[],
): Record<string, unknown> {
  return {
    name: providerNameFor(clientId),
    authorization_flow: flows.authorizationFlow,
    invalidation_flow: flows.invalidationFlow,
    client_type: 'confidential',
    ...(grantTypes && { grant_types: grantTypes }),
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUriEntries(registration.redirectUris),
    property_mappings: scopeMappings,
  };
}

/**
 * The provider's `grant_types` (authentik 2026.5 and later): the grants Konnect asked for, and nothing more. authentik's
 * token view refuses a grant the provider does not list, and a provider created through the API without the field
 * lists none (`default=list`, migration 0033), so leaving it out gives credentials that never get a token.
 */
export const grantTypesFor = (registration: ClientRegistration): string[] => [...registration.grantTypes];

/** Whether a provider as authentik answered it lists every grant asked for (true where authentik has no `grant_types`). */
export const allowsGrants = (provider: AuthentikProvider, grantTypes: string[]): boolean =>
  !Array.isArray(provider.grant_types) || grantTypes.every((grant) => provider.grant_types?.includes(grant));

/** The body of `POST /api/v3/core/applications/`: Konnect's application name, exposing the provider. */
export function newApplication(clientId: string, providerPk: number, registration: ClientRegistration): Record<string, unknown> {
  return {
    name: registration.clientName,
    slug: clientId,
    provider: providerPk,
    meta_description: registration.description,
    meta_publisher: PUBLISHER,
  };
}

/**
 * authentik's error bodies (Django REST framework): `{"detail": "…"}` for 403 and 404, and for a refused
 * write one list of messages per field, `{"redirect_uris": ["…"], "non_field_errors": ["…"]}`.
 */
export function authentikMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.detail === 'string') return fields.detail;
  const parts = Object.entries(fields).flatMap(([field, messages]) => messagesOf(messages).map((text) => `${field}: ${text}`));
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The messages of one field, also of a nested serializer's (`{"redirect_uris": [{"url": ["…"]}]}`). */
function messagesOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([field, nested]) => messagesOf(nested).map((text) => `${field}: ${text}`));
  return [];
}
