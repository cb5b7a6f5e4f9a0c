import { type AdapterModule, defineAdapterSettings, INSECURE_HTTP, setting, settingNamesOf, type SettingsOptions } from '@dcr-bridge/core';
import { createRfc7591Adapter, type Rfc7591AdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

/** The settings, all named `RFC7591_…`: what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    issuer: setting.url('ISSUER', { doc: 'issuer URL; the registration (and token) endpoint come from its discovery document' }),
    registrationEndpoint: setting.url('REGISTRATION_ENDPOINT', {
      doc: 'or the registration endpoint itself (no discovery). Exactly one of the two.',
    }),
    initialAccessToken: setting.secret('INITIAL_ACCESS_TOKEN', { doc: 'a static initial access token for registration' }),
    clientId: setting.text('TOKEN_CLIENT_ID', {
      optionText: '`tokenClient.clientId`',
      doc: 'or: get the initial access token by client_credentials (`client_secret_basic`), cached until shortly before it expires, one request for concurrent callers',
    }),
    clientSecret: setting.secret('TOKEN_CLIENT_SECRET', { optionText: '`tokenClient.clientSecret`', doc: "that client's secret" }),
    scope: setting.text('TOKEN_SCOPE', { optionText: '`tokenClient.scope`', doc: 'scope of that token request' }),
    tokenEndpoint: setting.url('TOKEN_ENDPOINT', {
      defaultText: 'from discovery',
      doc: 'required for `RFC7591_TOKEN_CLIENT_*` without `RFC7591_ISSUER`',
    }),
    allowInsecureHttp: setting.boolean(INSECURE_HTTP, {
      default: false,
      doc: "`true` allows `http://` IdP URLs (local testing only): initial access tokens, registration access tokens and client secrets then travel in clear; core's one rule for every adapter's admin URLs, said at start and warned by `dcr-bridge doctor`",
    }),
  },
  check({ issuer, registrationEndpoint, tokenEndpoint, initialAccessToken, clientId, clientSecret }, { isSet }) {
    const problems: string[] = [];
    if (!isSet('issuer') && !isSet('registrationEndpoint'))
      problems.push('Set RFC7591_ISSUER (discovery) or RFC7591_REGISTRATION_ENDPOINT.');
    if (isSet('issuer') && isSet('registrationEndpoint')) problems.push('Set RFC7591_ISSUER or RFC7591_REGISTRATION_ENDPOINT, not both.');
    if (!clientId !== !clientSecret) problems.push('RFC7591_TOKEN_CLIENT_ID and RFC7591_TOKEN_CLIENT_SECRET go together.');
    if (initialAccessToken && clientId) problems.push('Set RFC7591_INITIAL_ACCESS_TOKEN or RFC7591_TOKEN_CLIENT_ID/SECRET, not both.');
    if (clientId && !issuer && !tokenEndpoint && registrationEndpoint)
      problems.push('RFC7591_TOKEN_CLIENT_ID needs RFC7591_TOKEN_ENDPOINT when there is no RFC7591_ISSUER to discover it from.');
    return problems;
  },
  options: ({ clientId, clientSecret, scope, ...values }) => ({
    ...values,
    tokenClient: clientId && clientSecret ? { clientId, clientSecret, scope } : undefined,
  }),
});

/** The adapter as the server loads it: any IdP with RFC 7591 registration and RFC 7592 management. */
export const dcrBridgeAdapter: AdapterModule<Omit<SettingsOptions<Rfc7591AdapterOptions>, 'store'>> = {
  id: ADAPTER_ID,
  keepsState: true,
  settings,
  async create(options, context) {
    return createRfc7591Adapter({
      ...options,
      settingNames: settingNamesOf(settings),
      store: await context.openStore(),
      ...(await context.openLifecycle()),
      logger: context.logger,
    });
  },
};
