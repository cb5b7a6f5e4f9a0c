import { uniqueName, type ClientRegistration, type OAuthGrantType, type RegistrationRules } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

// Konnect → ZITADEL: what a Konnect registration becomes at the IdP (an OIDC application of the configured
// project, created through the v2 ApplicationService), and what marks an application as the bridge's.

/** An application as ZITADEL's ApplicationService returns it (protobuf JSON, lowerCamelCase), as much as the adapter reads. */
export interface ZitadelApplication {
  applicationId: string;
  name: string;
  state?: string;
  oidcConfiguration?: {
    clientId: string;
    redirectUris?: string[];
    grantTypes?: string[];
    authMethodType?: string;
  };
}

/**
 * The ownership marker: the application id the bridge chooses at creation (CreateApplication takes an
 * optional `application_id`). ZITADEL's console and the API generate numeric ids, so an id with this
 * prefix was chosen by the bridge. It ends in the create nonce, so `findByNonce` is one exact lookup.
 */
export const APPLICATION_ID_PREFIX = 'dcr-bridge-';
export const applicationIdFor = (nonce: string) => `${APPLICATION_ID_PREFIX}${nonce}`;
export const isManaged = (application: ZitadelApplication) => application.applicationId.startsWith(APPLICATION_ID_PREFIX);

/**
 * ZITADEL's token endpoint authentication methods for OIDC applications that have a client secret. A service
 * user's client secret is accepted both ways (HTTP Basic and form), so both are valid for it too.
 */
const AUTH_METHODS: Record<string, string> = {
  client_secret_basic: 'OIDC_AUTH_METHOD_TYPE_BASIC',
  client_secret_post: 'OIDC_AUTH_METHOD_TYPE_POST',
};

/** ZITADEL's OIDCGrantType values; client_credentials has none (ZITADEL grants it to service users only, see machine-users.ts). */
const GRANT_TYPES: Partial<Record<OAuthGrantType, string>> = {
  authorization_code: 'OIDC_GRANT_TYPE_AUTHORIZATION_CODE',
  refresh_token: 'OIDC_GRANT_TYPE_REFRESH_TOKEN',
  'urn:ietf:params:oauth:grant-type:device_code': 'OIDC_GRANT_TYPE_DEVICE_CODE',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'OIDC_GRANT_TYPE_TOKEN_EXCHANGE',
};

/**
 * The scopes ZITADEL's OpenID Provider serves to any OIDC application: an application has no scope list of
 * its own, so the registration's scopes are checked against these, without a call.
 */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'];

/** The application's name at the IdP: Konnect's application name with the create nonce as its unique suffix. */
export const clientNameFor = (clientName: string, nonce: string) => uniqueName(clientName, { suffix: nonce });

/**
 * What a Konnect registration becomes in ZITADEL: ZITADEL issues client_credentials tokens to service
 * (machine) users only, every other grant to OIDC applications.
 */
export type ClientKind = 'machineUser' | 'oidcApplication';

/**
 * What ZITADEL accepts: client_credentials on its own (a service user), the other grants together (an OIDC
 * application), and the scopes its OpenID Provider serves.
 */
export const REGISTRATION: RegistrationRules = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} service users and OIDC applications`,
  authMethods: Object.keys(AUTH_METHODS),
  grantTypes: ['client_credentials', ...(Object.keys(GRANT_TYPES) as OAuthGrantType[])],
  grantAlone: ['client_credentials'],
  scopes: { kind: 'listed', known: SUPPORTED_SCOPES },
};

/** What a registration core checked against `REGISTRATION` becomes. */
export const clientKind = (registration: ClientRegistration): ClientKind =>
  registration.grantTypes.includes('client_credentials') ? 'machineUser' : 'oidcApplication';

/** The body of CreateApplication for a registration `REGISTRATION` allows: the marker as the application id. */
export function newApplication(registration: ClientRegistration, projectId: string, nonce: string): Record<string, unknown> {
  const grantTypes = registration.grantTypes.map((grant) => GRANT_TYPES[grant]);
  return {
    projectId,
    applicationId: applicationIdFor(nonce),
    name: clientNameFor(registration.clientName, nonce),
    oidcConfiguration: {
      redirectUris: registration.redirectUris,
      responseTypes: registration.grantTypes.includes('authorization_code') ? ['OIDC_RESPONSE_TYPE_CODE'] : [],
      grantTypes,
      applicationType: 'OIDC_APP_TYPE_WEB',
      authMethodType: AUTH_METHODS[registration.tokenEndpointAuthMethod],
    },
  };
}

/** A Connect error body, `{code, message}`, as an operator reads it. */
export function describeConnectError(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { code, message } = body as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return undefined;
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
