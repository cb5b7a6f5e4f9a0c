import { BridgeError, hasOwnershipMarkerLine, ownershipMarkerLine, uniqueName, type ClientRegistration } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

/** A PingOne application (Platform API `applications`), as much as the bridge reads or writes. */
export interface PingOneApplication {
  id?: string;
  name: string;
  description?: string;
  enabled: boolean;
  type: string;
  protocol: string;
  grantTypes: string[];
  responseTypes?: string[];
  redirectUris?: string[];
  tokenEndpointAuthMethod: string;
  [field: string]: unknown;
}

const GRANTS: Record<string, string> = {
  client_credentials: 'CLIENT_CREDENTIALS',
  authorization_code: 'AUTHORIZATION_CODE',
  refresh_token: 'REFRESH_TOKEN',
  implicit: 'IMPLICIT',
};
const AUTH_METHODS: Record<string, string> = {
  client_secret_basic: 'CLIENT_SECRET_BASIC',
  client_secret_post: 'CLIENT_SECRET_POST',
  client_secret_jwt: 'CLIENT_SECRET_JWT',
};

/** The bridge's marker is the last line of the description (core's ownership marker line). */
export function isManaged(application: PingOneApplication): boolean {
  return hasOwnershipMarkerLine(application.description);
}

/** Application names are unique per environment and Konnect application names are not: the nonce makes them unique. */
export function applicationName(clientName: string, nonce: string): string {
  return uniqueName(clientName, { keepCase: true, disallowed: /[^\p{L}\p{N} ._()-]+/gu, maxLength: 100, suffix: nonce });
}

export function newApplication(registration: ClientRegistration, nonce: string): PingOneApplication {
  const authMethod = AUTH_METHODS[registration.tokenEndpointAuthMethod];
  if (!authMethod) {
    throw new BridgeError(
      'invalid_client_metadata',
      `token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}" is not one the ${IDP_NAME} adapter supports (client_secret_basic, client_secret_post, client_secret_jwt).`,
    );
  }
  const grantTypes = registration.grantTypes.map((grant) => {
    const mapped = GRANTS[grant];
    if (!mapped) throw new BridgeError('invalid_client_metadata', `${IDP_NAME} web applications cannot use the grant type ${grant}.`);
    return mapped;
  });
  const responseTypes = [
    ...(grantTypes.includes('AUTHORIZATION_CODE') ? ['CODE'] : []),
    ...(grantTypes.includes('IMPLICIT') ? ['TOKEN', 'ID_TOKEN'] : []),
  ];
  const marker = ownershipMarkerLine(registration.konnect);
  return {
    name: applicationName(registration.clientName, nonce),
    description: registration.description ? `${registration.description}\n${marker}` : marker,
    enabled: true,
    type: 'WEB_APP',
    protocol: 'OPENID_CONNECT',
    grantTypes,
    responseTypes,
    redirectUris: registration.redirectUris,
    tokenEndpointAuthMethod: authMethod,
  };
}

/** PingOne's errors: `{id, code, message, details: [{code, target, message}]}`. */
export function pingOneMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as { code?: unknown; message?: unknown; details?: Array<{ code?: unknown; target?: unknown; message?: unknown }> };
  const details = (record.details ?? [])
    .map((detail) => [detail.target, detail.message].filter((part) => typeof part === 'string').join(': '))
    .filter(Boolean);
  const head = typeof record.message === 'string' ? record.message : undefined;
  const text = [head, ...details].filter(Boolean).join(' ');
  return text ? `${text}${typeof record.code === 'string' ? ` [${record.code}]` : ''}` : undefined;
}

export const REGIONS = ['com', 'eu', 'ca', 'com.au', 'sg', 'asia'] as const;
export type PingOneRegion = (typeof REGIONS)[number];
