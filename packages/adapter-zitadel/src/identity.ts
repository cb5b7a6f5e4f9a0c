/** The adapter's id: what the server's configuration chooses it by, and what core's lifecycle names in its logs. */
export const ADAPTER_ID = 'zitadel';
/** The IdP's name in messages and logs. */
export const IDP_NAME = 'ZITADEL';
/** The prefix of the adapter's settings (`<prefix>_URL`, …), which src/module.ts declares: the only place that names them. */
export const SETTINGS_PREFIX = 'ZITADEL';
