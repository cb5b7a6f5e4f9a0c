import { uniqueName, type ClientRegistration, type RegistrationRules } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

// Konnect → __DISPLAY__: what a Konnect registration becomes at the IdP, and what marks a client as the bridge's.

/** A client as __DISPLAY__'s admin API returns it, as much as the adapter reads. */
export interface __PASCAL__Client {
  id: string;
  name: string;
  metadata?: Record<string, string>;
}

/** The ownership marker: a metadata entry every client the bridge creates carries. */
export const MANAGED = 'dcr-bridge.managed';

/**
 * What __DISPLAY__ accepts in a registration: core refuses the rest with one message, before anything is created.
 * Its scopes are read from the IdP at each create (`scopes` in src/adapter.ts).
 */
export const REGISTRATION: Omit<RegistrationRules, 'scopes'> = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} clients`,
  authMethods: ['client_secret_basic', 'client_secret_post'],
  grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
};

export const isManaged = (client: __PASCAL__Client) => client.metadata?.[MANAGED] === 'true';

/** The client's name at the IdP: Konnect's application name with the create nonce as its unique suffix. */
export const clientNameFor = (clientName: string, nonce: string) => uniqueName(clientName, { suffix: nonce });

/** The body of the create for a registration core checked against `REGISTRATION`: the marker and Konnect's references in the metadata. */
export function newClient(registration: ClientRegistration, nonce: string): Record<string, unknown> {
  return {
    name: clientNameFor(registration.clientName, nonce),
    description: registration.description,
    redirect_uris: registration.redirectUris,
    grant_types: registration.grantTypes,
    scopes: registration.scopes,
    metadata: { [MANAGED]: 'true', 'dcr-bridge.konnect': JSON.stringify(registration.konnect) },
  };
}
