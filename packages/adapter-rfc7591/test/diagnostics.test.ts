import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { createEncryptedStore, createMemoryDriver, type DcrAdapter, settingNamesOf } from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { konnectApplication, operationContext } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRfc7591Adapter, type Rfc7591AdapterOptions } from '../src/index.js';
import { dcrBridgeAdapter } from '../src/module.js';
import { startTestProvider, type TestProvider, registrationApi } from './oidc-provider.js';

/** The doctor runs on the adapter the server builds from its settings: its fixes name them. */
const settingNames = settingNamesOf(dcrBridgeAdapter.settings);

const context = () => operationContext();
const store = () => createEncryptedStore({ driver: createMemoryDriver(), keys: [new Uint8Array(randomBytes(32))] });

let idp: TestProvider;
let withoutRegistration: TestProvider;
let withoutClientCredentials: TestProvider;
const adapters: DcrAdapter[] = [];

function adapterOn(provider: TestProvider, options: Partial<Rfc7591AdapterOptions>): DcrAdapter {
  const adapter = createRfc7591Adapter({
    settingNames,
    issuer: provider.issuer,
    store: store(),
    allowInsecureHttp: true,
    ...options,
  } as Rfc7591AdapterOptions);
  adapters.push(adapter);
  return adapter;
}

/** The doctor's checks, and the requests the provider received while they ran. */
async function checksOf(provider: TestProvider, adapter: DcrAdapter) {
  const before = provider.requests.length;
  const checks = await adapter.diagnostics!.checkPermissions(context());
  return { checks, requests: provider.requests.slice(before), byName: Object.fromEntries(checks.map((check) => [check.name, check])) };
}

beforeAll(async () => {
  [idp, withoutRegistration, withoutClientCredentials] = await Promise.all([
    startTestProvider(),
    startTestProvider({ registration: false }),
    startTestProvider({ clientCredentials: false }),
  ]);
});
afterAll(async () => {
  for (const adapter of adapters) await adapter.close?.();
  await Promise.all([idp.close(), withoutRegistration.close(), withoutClientCredentials.close()]);
});

describe('doctor: IdP version', () => {
  it('reports the issuer and what its registration endpoint supports (no version: discovery tells none), one discovery read', async () => {
    const before = idp.requests.length;
    const found = await adapterOn(idp, {}).diagnostics!.idpVersion!(context());
    expect(found).toEqual({
      product: 'OAuth 2.0 Dynamic Client Registration (RFC 7591) with management (RFC 7592)',
      supported: expect.stringContaining('RFC 7591 registration and RFC 7592 management'),
      withinSupported: true,
      detail: expect.stringContaining(
        `issuer ${idp.issuer} (its discovery document names no product or version); registration_endpoint ${idp.registrationEndpoint}`,
      ),
    });
    expect(found.version).toBeUndefined();
    expect(found.detail).toContain('token_endpoint_auth_methods_supported: client_secret_basic');
    expect(found.detail).toContain('grant_types_supported: ');
    expect(idp.requests.slice(before)).toEqual([expect.stringContaining('/.well-known/openid-configuration')]);
  });

  it('is outside the supported range where the discovery document announces no registration_endpoint', async () => {
    expect(await adapterOn(withoutRegistration, {}).diagnostics!.idpVersion!(context())).toMatchObject({
      withinSupported: false,
      detail: expect.stringContaining('announces no registration_endpoint'),
    });
  });

  it('cannot tell without discovery (RFC7591_REGISTRATION_ENDPOINT)', async () => {
    const found = await adapterOn(idp, { issuer: undefined, registrationEndpoint: idp.registrationEndpoint }).diagnostics!.idpVersion!(
      context(),
    );
    expect(found.withinSupported).toBeUndefined();
    expect(found.detail).toContain('no discovery document');
  });
});

describe('readiness and the permission checks', () => {
  it('is not ready where the IdP would register clients that can never get a token (no client_credentials grant)', async () => {
    const initialAccessToken = await withoutClientCredentials.plainInitialAccessToken();
    const report = await adapterOn(withoutClientCredentials, { initialAccessToken }).checkReady(context());
    expect(report).toMatchObject({ ready: false, reason: 'idp_error', missingPermissions: ['grant type client_credentials'] });
    expect((await adapterOn(idp, { initialAccessToken: await idp.plainInitialAccessToken() }).checkReady(context())).ready).toBe(true);
  });
});

describe('doctor: permission checks', () => {
  it('passes every check it can see with a token client the IdP accepts, reading only', async () => {
    const adapter = adapterOn(idp, { tokenClient: idp.admin });
    expect(adapter.diagnostics?.adminUrl).toBe(idp.issuer);
    const { checks, requests } = await checksOf(idp, adapter);
    expect(checks).toEqual([
      { name: 'discovery document', result: 'pass', detail: `read from ${idp.issuer}` },
      { name: 'registration_endpoint', result: 'pass', detail: idp.registrationEndpoint },
      { name: 'grant type client_credentials', result: 'pass', detail: expect.stringContaining('client_credentials') },
      { name: 'initial access token', result: 'pass', detail: expect.stringContaining('--write-test') },
      { name: 'RFC 7592 client management', result: 'skip', detail: expect.stringContaining('--write-test') },
    ]);
    // Discovery (read afresh by the checks, and once for the token client's endpoint) and the token request:
    // nothing reaches the registration endpoint.
    expect(requests).toEqual(['GET /.well-known/openid-configuration', 'GET /.well-known/openid-configuration', 'POST /token']);
  });

  it('fails the initial access token check, with what to fix, when the IdP refuses the token client', async () => {
    const adapter = adapterOn(idp, { tokenClient: { clientId: idp.admin.clientId, clientSecret: 'not-the-secret' } });
    const { byName, requests } = await checksOf(idp, adapter);
    expect(byName['initial access token']).toMatchObject({ result: 'fail', fix: expect.stringContaining('RFC7591_TOKEN_CLIENT_SECRET') });
    expect(byName['initial access token']?.detail).not.toContain('not-the-secret');
    expect(requests.filter((line) => line.includes('/reg'))).toEqual([]);
    expect((await adapter.checkReady(context())).ready).toBe(false);
  });

  it('fails registration_endpoint where the IdP has dynamic registration off', async () => {
    const adapter = adapterOn(withoutRegistration, { initialAccessToken: 'iat' });
    const { byName } = await checksOf(withoutRegistration, adapter);
    expect(byName['discovery document']?.result).toBe('pass');
    expect(byName.registration_endpoint).toMatchObject({
      result: 'fail',
      fix: expect.stringContaining('Enable dynamic client registration'),
    });
  });

  it('fails the grant check where the IdP does not offer client_credentials', async () => {
    const adapter = adapterOn(withoutClientCredentials, { initialAccessToken: await withoutClientCredentials.plainInitialAccessToken() });
    const { byName } = await checksOf(withoutClientCredentials, adapter);
    expect(byName['grant type client_credentials']).toMatchObject({
      result: 'fail',
      detail: expect.not.stringContaining('client_credentials'),
      fix: expect.stringContaining('client_credentials'),
    });
  });

  it('leaves a static initial access token to --write-test (its validity cannot be read)', async () => {
    const adapter = adapterOn(idp, { initialAccessToken: await idp.rotatingInitialAccessToken() });
    const { byName } = await checksOf(idp, adapter);
    expect(byName['initial access token']).toMatchObject({ result: 'skip', detail: expect.stringContaining('--write-test') });
  });

  it('fails discovery, with what to fix, for an issuer that serves no discovery document', async () => {
    const adapter = adapterOn(idp, { issuer: `${idp.issuer}/no-such-issuer`, initialAccessToken: 'iat' });
    const { byName } = await checksOf(idp, adapter);
    expect(byName['discovery document']).toMatchObject({ result: 'fail', fix: expect.stringContaining('RFC7591_ISSUER') });
    expect(byName.registration_endpoint?.result).toBe('skip');
    expect((await adapter.checkReady(context())).ready).toBe(false);
  });

  it('reads no discovery document when the registration endpoint is configured directly', async () => {
    const adapter = adapterOn(idp, { issuer: undefined, registrationEndpoint: idp.registrationEndpoint, initialAccessToken: 'iat' });
    expect(adapter.diagnostics?.adminUrl).toBe(idp.registrationEndpoint);
    const { byName, requests } = await checksOf(idp, adapter);
    expect(byName['discovery document']?.result).toBe('skip');
    expect(byName.registration_endpoint).toEqual({
      name: 'registration_endpoint',
      result: 'pass',
      detail: `configured: ${idp.registrationEndpoint}`,
    });
    expect(requests).toEqual([]);
  });
});

describe('doctor: token endpoint', () => {
  it('is where a client the adapter registered gets a token with client_credentials', async () => {
    const adapter = adapterOn(idp, { initialAccessToken: await idp.rotatingInitialAccessToken() });
    const tokenEndpoint = await adapter.diagnostics!.tokenEndpoint(context());
    expect(tokenEndpoint).toBe(idp.tokenEndpoint);
    const created = await adapter.createClient(
      parseRegistration(konnectApplication({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post' })),
      context(),
    );
    const config = new oidc.Configuration(
      { issuer: idp.issuer, token_endpoint: tokenEndpoint },
      created.clientId,
      undefined,
      oidc.ClientSecretPost(created.clientSecret),
    );
    oidc.allowInsecureRequests(config);
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.access_token).toEqual(expect.any(String));
    await adapter.deleteClient(created.clientId, context());
  });

  it('is the configured tokenEndpoint without discovery, and an error naming it when there is none', async () => {
    const configured = adapterOn(idp, {
      issuer: undefined,
      registrationEndpoint: idp.registrationEndpoint,
      tokenEndpoint: idp.tokenEndpoint,
    });
    expect(await configured.diagnostics!.tokenEndpoint(context())).toBe(idp.tokenEndpoint);
    const missing = adapterOn(idp, { issuer: undefined, registrationEndpoint: idp.registrationEndpoint });
    await expect(missing.diagnostics!.tokenEndpoint(context())).rejects.toThrow("set the adapter's tokenEndpoint");
  });
});

// Every registration request and RFC 7592 call the provider saw, and its answers, against RFC 7591/7592 (test/vendor).
afterAll(() => registrationApi.expectNoProblems());
