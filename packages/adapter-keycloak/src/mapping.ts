import { uniqueName, type ClientRegistration, type RegistrationRules } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

/** Keycloak's ClientRepresentation, as much of it as the bridge reads or writes. */
export interface KeycloakClient {
  id?: string;
  clientId: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  protocol?: string;
  publicClient?: boolean;
  clientAuthenticatorType?: string;
  serviceAccountsEnabled?: boolean;
  standardFlowEnabled?: boolean;
  implicitFlowEnabled?: boolean;
  directAccessGrantsEnabled?: boolean;
  redirectUris?: string[];
  attributes?: Record<string, string>;
  /** On create: the secret to give the client (Keycloak generates one when absent). Keycloak's reads carry it too. */
  secret?: string;
  /** On create, by name: they REPLACE the realm's default and optional scopes the client would get (unknown names are ignored). */
  defaultClientScopes?: string[];
  optionalClientScopes?: string[];
  [field: string]: unknown;
}

/** The bridge's marker: rotate, update and delete refuse a client without it. */
export const MANAGED_ATTRIBUTE = 'dcr-bridge.managed';
const KONNECT_ATTRIBUTE_PREFIX = 'dcr-bridge.konnect.';

/** token_endpoint_auth_method → Keycloak's client authenticator. */
const AUTHENTICATORS: Record<string, string> = {
  client_secret_basic: 'client-secret',
  client_secret_post: 'client-secret',
  client_secret_jwt: 'client-secret-jwt',
};

export function isManaged(client: KeycloakClient): boolean {
  return client.attributes?.[MANAGED_ATTRIBUTE] === 'true';
}

/** The client as the bridge keeps it: Keycloak's reads carry the secret, which nothing after the read needs. */
export function withoutSecret<Client extends KeycloakClient>(client: Client): Client {
  const copy = { ...client };
  delete copy.secret;
  return copy;
}

/** Keycloak client ids are unique per realm and Konnect application names are not: the nonce makes them unique. */
export function clientIdFor(clientName: string, nonce: string): string {
  return uniqueName(clientName, { prefix: 'konnect-', maxLength: 64, suffix: nonce });
}

/** What Keycloak gives a confidential client; its scopes are the realm's client scopes, read at each create (see adapter.ts). */
export const REGISTRATION: Omit<RegistrationRules, 'scopes'> = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} confidential clients`,
  authMethods: Object.keys(AUTHENTICATORS),
  grantTypes: ['client_credentials', 'authorization_code', 'refresh_token', 'implicit', 'password'],
};

/** The client for a registration core checked against `REGISTRATION`. */
export function clientRepresentation(registration: ClientRegistration, nonce: string): KeycloakClient {
  const grants = new Set(registration.grantTypes);
  const { konnect } = registration;
  return {
    clientId: clientIdFor(registration.clientName, nonce),
    name: registration.clientName,
    description: registration.description,
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: AUTHENTICATORS[registration.tokenEndpointAuthMethod],
    serviceAccountsEnabled: grants.has('client_credentials'),
    standardFlowEnabled: grants.has('authorization_code'),
    implicitFlowEnabled: grants.has('implicit'),
    directAccessGrantsEnabled: grants.has('password'),
    redirectUris: registration.redirectUris,
    attributes: {
      [MANAGED_ATTRIBUTE]: 'true',
      [`${KONNECT_ATTRIBUTE_PREFIX}portal_id`]: konnect.portalId,
      [`${KONNECT_ATTRIBUTE_PREFIX}organization_id`]: konnect.organizationId,
      [`${KONNECT_ATTRIBUTE_PREFIX}developer_id`]: konnect.developerId,
      [`${KONNECT_ATTRIBUTE_PREFIX}auth_strategy_id`]: konnect.authStrategyId,
      [`${KONNECT_ATTRIBUTE_PREFIX}dcr_provider_id`]: konnect.dcrProviderId,
    },
  };
}

/** Keycloak's error bodies: `{errorMessage}` or `{error, error_description}`. */
export function keycloakMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['errorMessage', 'error_description', 'error']) {
    if (typeof record[key] === 'string' && record[key] !== '') return record[key] as string;
  }
  return undefined;
}
