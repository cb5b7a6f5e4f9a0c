import {
  hasOwnershipMarkerLine,
  ownershipMarkerLine,
  uniqueName,
  type ClientRegistration,
  type OAuthGrantType,
  type RegistrationRules,
} from '@dcr-bridge/core';
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

const GRANTS: Partial<Record<OAuthGrantType, string>> = {
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

/** What a PingOne web application accepts; its scopes are read at each create (see adapter.ts). */
export const REGISTRATION: Omit<RegistrationRules, 'scopes'> = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} web applications`,
  authMethods: Object.keys(AUTH_METHODS),
  grantTypes: Object.keys(GRANTS) as OAuthGrantType[],
};

/** The bridge's marker is the last line of the description (core's ownership marker line). */
export function isManaged(application: PingOneApplication): boolean {
  return hasOwnershipMarkerLine(application.description);
}

/** Application names are unique per environment and Konnect application names are not: the nonce makes them unique. */
export function applicationName(clientName: string, nonce: string): string {
  return uniqueName(clientName, { keepCase: true, disallowed: /[^\p{L}\p{N} ._()-]+/gu, maxLength: 100, suffix: nonce });
}

/** The application for a registration core checked against `REGISTRATION`. */
export function newApplication(registration: ClientRegistration, nonce: string): PingOneApplication {
  const grantTypes = registration.grantTypes.map((grant) => GRANTS[grant] as string);
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
    tokenEndpointAuthMethod: AUTH_METHODS[registration.tokenEndpointAuthMethod] as string,
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
