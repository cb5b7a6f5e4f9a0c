import { BridgeError, uniqueName, type ClientRegistration } from '@dcr-bridge/core';
import { ADAPTER_ID } from './identity.js';

// Konnect → __DISPLAY__: what a Konnect registration becomes at the IdP, and what marks a client as the bridge's.

/** A client as __DISPLAY__'s admin API returns it, as much as the adapter reads. */
export interface __PASCAL__Client {
  id: string;
  name: string;
  metadata?: Record<string, string>;
}

/** The ownership marker: a metadata entry every client the bridge creates carries. */
export const MANAGED = 'dcr-bridge.managed';
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];
const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'];

export const isManaged = (client: __PASCAL__Client) => client.metadata?.[MANAGED] === 'true';

/** The client's name at the IdP: Konnect's application name with the create nonce as its unique suffix. */
export const clientNameFor = (clientName: string, nonce: string) => uniqueName(clientName, { suffix: nonce });

/** Refuses what the IdP cannot do before any call, so that a refused registration changes nothing. */
function checkRegistration(registration: ClientRegistration): void {
  if (!AUTH_METHODS.includes(registration.tokenEndpointAuthMethod)) {
    throw new BridgeError(
      'invalid_client_metadata',
      `token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}" is not one the ${ADAPTER_ID} adapter supports (${AUTH_METHODS.join(', ')}).`,
    );
  }
  const unsupported = registration.grantTypes.filter((grant) => !GRANT_TYPES.includes(grant));
  if (unsupported.length > 0)
    throw new BridgeError(
      'invalid_client_metadata',
      `The ${ADAPTER_ID} adapter cannot enable the grant type${unsupported.length > 1 ? 's' : ''} ${unsupported.join(', ')}.`,
    );
}

/** The body of the create: the registration checked, the marker and Konnect's references in the metadata. */
export function newClient(registration: ClientRegistration, nonce: string): Record<string, unknown> {
  checkRegistration(registration);
  return {
    name: clientNameFor(registration.clientName, nonce),
    description: registration.description,
    redirect_uris: registration.redirectUris,
    grant_types: registration.grantTypes,
    scopes: registration.scopes,
    metadata: { [MANAGED]: 'true', 'dcr-bridge.konnect': JSON.stringify(registration.konnect) },
  };
}
