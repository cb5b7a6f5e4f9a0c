import {
  generateSecret,
  hasOwnershipMarkerLine,
  ownershipMarkerLine,
  uniqueName,
  type ClientRegistration,
  type OAuthGrantType,
  type RegistrationRules,
} from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

/** PingFederate's OAuth client (pf-admin-api `Client`), as much as the bridge reads or writes. */
export interface PingFederateClient {
  clientId: string;
  name?: string;
  description?: string;
  enabled?: boolean;
  grantTypes: string[];
  redirectUris?: string[];
  restrictScopes?: boolean;
  restrictedScopes?: string[];
  clientAuth?: { type: string; secret?: string; encryptedSecret?: string; secondarySecrets?: unknown[] };
  defaultAccessTokenManagerRef?: { id: string };
  [field: string]: unknown;
}

export interface ClientDefaults {
  /** Access token manager for the bridge's clients; default: PingFederate's default manager. */
  accessTokenManagerId?: string;
}

const GRANTS: Partial<Record<OAuthGrantType, string>> = {
  client_credentials: 'CLIENT_CREDENTIALS',
  authorization_code: 'AUTHORIZATION_CODE',
  refresh_token: 'REFRESH_TOKEN',
  implicit: 'IMPLICIT',
  password: 'RESOURCE_OWNER_CREDENTIALS',
  'urn:ietf:params:oauth:grant-type:device_code': 'DEVICE_CODE',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'TOKEN_EXCHANGE',
};

/** What PingFederate gives a client with a SECRET client authentication; its scopes are read at each create (see adapter.ts). */
export const REGISTRATION: Omit<RegistrationRules, 'scopes'> = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} clients with a secret`,
  authMethods: ['client_secret_basic', 'client_secret_post'],
  grantTypes: Object.keys(GRANTS) as OAuthGrantType[],
};

/** The bridge's marker is the last line of the description (core's ownership marker line). */
export function isManaged(client: PingFederateClient): boolean {
  return hasOwnershipMarkerLine(client.description);
}

/** PingFederate client ids are chosen by the caller and unique; Konnect names are not: the create nonce makes them unique. */
export function clientIdFor(clientName: string, nonce: string): string {
  return uniqueName(clientName, { prefix: 'konnect-', maxLength: 100, disallowed: /[^a-z0-9._-]+/g, suffix: nonce });
}

/** Fields PingFederate fills in itself and ignores on PUT. */
const READ_ONLY_FIELDS = ['creationDate', 'modificationDate', 'replicationStatus', 'clientSecretChangedTime'];

/** The client as read, minus the read-only fields: what a full-client PUT sends back. */
export function writable(client: PingFederateClient): PingFederateClient {
  return Object.fromEntries(Object.entries(client).filter(([field]) => !READ_ONLY_FIELDS.includes(field))) as PingFederateClient;
}

/** The client with its authentication type only: what the bridge keeps of a client it sent, never a secret. */
export function withoutSecret(client: PingFederateClient): PingFederateClient {
  return { ...client, clientAuth: client.clientAuth && { type: client.clientAuth.type } };
}

/** A new client for a registration core checked against `REGISTRATION`, and the secret the bridge generated for it (PingFederate takes the secret from the caller). */
export function newClient(
  registration: ClientRegistration,
  defaults: ClientDefaults,
  nonce: string,
): { client: PingFederateClient; secret: string } {
  const grantTypes = registration.grantTypes.map((grant) => GRANTS[grant] as string);
  const secret = generateSecret();
  const marker = ownershipMarkerLine(registration.konnect);
  return {
    secret,
    client: {
      clientId: clientIdFor(registration.clientName, nonce),
      name: registration.clientName.slice(0, 128),
      description: registration.description ? `${registration.description}\n${marker}` : marker,
      enabled: true,
      grantTypes,
      redirectUris: registration.redirectUris,
      restrictScopes: registration.scopes.length > 0,
      restrictedScopes: registration.scopes,
      clientAuth: { type: 'SECRET', secret, secondarySecrets: [] },
      // A changed secret stops at once, whatever the server's Client Secret Retention Period: the bridge
      // decides what stays valid (a rotation's old secret, a secret put back), not a server-wide default.
      clientSecretRetentionPeriodType: 'OVERRIDE_SERVER_DEFAULT',
      clientSecretRetentionPeriod: 0,
      ...(defaults.accessTokenManagerId ? { defaultAccessTokenManagerRef: { id: defaults.accessTokenManagerId } } : {}),
    },
  };
}

/** PingFederate's errors: `{resultId, message, validationErrors: [{fieldPath, errorId, message}]}`. */
export function pingFederateMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as { message?: unknown; validationErrors?: Array<{ fieldPath?: unknown; message?: unknown }> };
  const details = (record.validationErrors ?? [])
    .map((error) => [error.fieldPath, error.message].filter((part) => typeof part === 'string').join(': '))
    .filter(Boolean);
  const message = typeof record.message === 'string' ? record.message : undefined;
  return details.length > 0 ? `${message ?? 'Validation error(s)'} ${details.join('; ')}` : message;
}
