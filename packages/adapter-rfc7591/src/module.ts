import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createRfc7591Adapter, type Rfc7591AdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';

type Settings = Omit<Rfc7591AdapterOptions, 'store' | keyof LifecycleSettings | 'dispatcher' | 'logger'>;

/** The adapter as the server loads it: any IdP with RFC 7591 registration and RFC 7592 management. */
export const dcrBridgeAdapter: AdapterModule<Settings> = {
  id: ADAPTER_ID,
  keepsState: true,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    const allowInsecureHttp = settings.boolean('ALLOW_INSECURE_HTTP', { default: false });
    const url = (name: string) => settings.url(name, { allowHttp: allowInsecureHttp });
    const issuer = url('ISSUER');
    const registrationEndpoint = url('REGISTRATION_ENDPOINT');
    const tokenEndpoint = url('TOKEN_ENDPOINT');
    const initialAccessToken = settings.secret('INITIAL_ACCESS_TOKEN');
    const clientId = settings.string('TOKEN_CLIENT_ID');
    const clientSecret = settings.secret('TOKEN_CLIENT_SECRET');
    const scope = settings.string('TOKEN_SCOPE');
    if (!issuer && !registrationEndpoint && !settings.raw('ISSUER') && !settings.raw('REGISTRATION_ENDPOINT')) {
      settings.problem('Set RFC7591_ISSUER (discovery) or RFC7591_REGISTRATION_ENDPOINT.');
    }
    if (settings.raw('ISSUER') && settings.raw('REGISTRATION_ENDPOINT')) {
      settings.problem('Set RFC7591_ISSUER or RFC7591_REGISTRATION_ENDPOINT, not both.');
    }
    if (!clientId !== !clientSecret) settings.problem('RFC7591_TOKEN_CLIENT_ID and RFC7591_TOKEN_CLIENT_SECRET go together.');
    if (initialAccessToken && clientId) settings.problem('Set RFC7591_INITIAL_ACCESS_TOKEN or RFC7591_TOKEN_CLIENT_ID/SECRET, not both.');
    if (clientId && !issuer && !tokenEndpoint && registrationEndpoint) {
      settings.problem('RFC7591_TOKEN_CLIENT_ID needs RFC7591_TOKEN_ENDPOINT when there is no RFC7591_ISSUER to discover it from.');
    }
    return {
      issuer,
      registrationEndpoint,
      tokenEndpoint,
      initialAccessToken,
      tokenClient: clientId && clientSecret ? { clientId, clientSecret, scope } : undefined,
      allowInsecureHttp,
      ...readSharedAdapterSettings(settings),
    };
  },
  async create(options, context) {
    return createRfc7591Adapter({
      ...options,
      store: await context.openStore(),
      ...(await context.openLifecycle()),
      logger: context.logger,
    });
  },
};
