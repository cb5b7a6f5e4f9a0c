/** The adapter's id: what the server's configuration chooses it by, and what core's lifecycle names in its logs. */
export const ADAPTER_ID = 'keycloak';
/** The IdP's name in messages and logs. */
export const IDP_NAME = 'Keycloak';
/** The prefix of the adapter's settings: KEYCLOAK_URL, KEYCLOAK_REALM, … */
export const SETTINGS_PREFIX = 'KEYCLOAK';
