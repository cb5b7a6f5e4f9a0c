import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import type { ConformanceBackdoor } from '@dcr-bridge/conformance';
import { DEFAULT_SCOPES } from '../src/adapter.js';
import { startFakeOkta, type FakeOkta, type FakeOktaOptions } from './fake-okta.js';

/** A fake org with a service app whose key pair the tests hold (PEM and JWK forms of the private key). */
export async function startOrg(
  options: FakeOktaOptions = {},
): Promise<{ okta: FakeOkta; pem: string; jwk: string; backdoor: ConformanceBackdoor }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const okta = await startFakeOkta({ clientId: '0oaservice123', publicKey, scopes: DEFAULT_SCOPES }, options);
  return {
    okta,
    pem: await exportPKCS8(privateKey),
    jwk: JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'bridge-key-1', alg: 'RS256' }),
    backdoor: {
      canGetToken: (clientId, secret) => okta.clientCredentials(clientId, secret),
      clientExists: async (clientId) => okta.client(clientId) !== undefined,
      redirectUris: async (clientId) => (okta.client(clientId)?.settings.redirect_uris as string[] | undefined) ?? [],
      createForeignClient: async () => okta.createForeignClient(),
      countClients: async () => okta.clientCount(),
      // An attribute of the app profile the bridge never sets: the PUT of an update sends the whole profile back.
      adminSetting: {
        set: async (clientId, value) => okta.setProfileAttribute(clientId, 'owner', value),
        get: async (clientId) => okta.client(clientId)?.profile.owner as string | undefined,
      },
    },
  };
}
