import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerAuthorization, createClientCredentialsTokenProvider, tokenRefusal } from '../src/idp.js';
import { listen, readBody, sendJson } from './helpers.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

interface TokenEndpoint {
  url: string;
  requests: URLSearchParams[];
  authHeaders: Array<string | undefined>;
}

/** A token endpoint that answers client_credentials with numbered tokens, or the given error, once `answerAfter()` settles. */
async function tokenEndpoint(
  answer: (n: number, form: URLSearchParams) => { status: number; body: unknown; headers?: Record<string, string> } = (n) => ({
    status: 200,
    body: { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 300 },
  }),
  answerAfter: () => Promise<unknown> = () => new Promise((resolve) => setTimeout(resolve, 20)),
): Promise<TokenEndpoint> {
  const endpoint: TokenEndpoint = { url: '', requests: [], authHeaders: [] };
  const server = await listen(async (req, res) => {
    const form = new URLSearchParams(await readBody(req));
    endpoint.requests.push(form);
    endpoint.authHeaders.push(req.headers.authorization);
    await answerAfter();
    const { status, body, headers } = answer(endpoint.requests.length, form);
    sendJson(res, status, body, { 'cache-control': 'no-store', ...headers });
  });
  close = server.close;
  endpoint.url = `${server.url}/realms/master/protocol/openid-connect/token`;
  return endpoint;
}

const base = (url: string) => ({
  issuer: url.replace(/\/protocol.*$/, ''),
  tokenEndpoint: url,
  clientId: 'bridge-admin',
  idpName: 'Keycloak',
});

describe('createClientCredentialsTokenProvider', () => {
  it('makes concurrent callers share one token request and caches the token', async () => {
    const endpoint = await tokenEndpoint();
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_basic', clientSecret: 's3cret' },
      scope: 'manage',
    });
    const tokens = await Promise.all(Array.from({ length: 25 }, () => provider.getToken()));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(await provider.getToken()).toBe('token-1');
    expect(endpoint.requests).toHaveLength(1);
    expect(endpoint.requests[0]?.get('grant_type')).toBe('client_credentials');
    expect(endpoint.requests[0]?.get('scope')).toBe('manage');
    // RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding ("-" → "%2D").
    expect(endpoint.authHeaders[0]).toBe(`Basic ${Buffer.from('bridge%2Dadmin:s3cret').toString('base64')}`);
  });

  it('sends User-Agent dcr-bridge/<version> (<adapter>), through its dispatcher too', async () => {
    const agents: Array<string | undefined> = [];
    const server = await listen(async (req, res) => {
      await readBody(req);
      agents.push(req.headers['user-agent']);
      sendJson(res, 200, { access_token: 'token-ua', token_type: 'Bearer', expires_in: 300 }, { 'cache-control': 'no-store' });
    });
    close = server.close;
    const url = `${server.url}/realms/master/protocol/openid-connect/token`;
    const auth = { method: 'client_secret_basic', clientSecret: 's3cret' } as const;
    await createClientCredentialsTokenProvider({ ...base(url), auth, adapterId: 'keycloak' }).getToken();
    const dispatcher = new Agent();
    await createClientCredentialsTokenProvider({ ...base(url), auth, adapterId: 'keycloak', dispatcher }).getToken();
    await dispatcher.close();
    const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(agents).toEqual([`dcr-bridge/${version} (keycloak)`, `dcr-bridge/${version} (keycloak)`]);
  });

  it('refreshes shortly before expiry and after an invalidation', async () => {
    const endpoint = await tokenEndpoint();
    let clock = 1_000_000;
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_post', clientSecret: 's' },
      now: () => clock,
      refreshSkewSeconds: 30,
    });
    expect(await provider.getToken()).toBe('token-1');
    expect(endpoint.requests[0]?.get('client_secret')).toBe('s');
    clock += 269_000;
    expect(await provider.getToken()).toBe('token-1');
    clock += 2_000;
    expect(await provider.getToken()).toBe('token-2');
    provider.invalidate('token-1');
    expect(await provider.getToken()).toBe('token-2');
    provider.invalidate('token-2');
    expect(await provider.getToken()).toBe('token-3');
    const auth = bearerAuthorization(provider);
    expect(await auth.header()).toBe('Bearer token-3');
    auth.rejected?.('Bearer token-3');
    expect(await auth.header()).toBe('Bearer token-4');
  });

  it('reports refused admin credentials as idp_error naming the client, never the secret', async () => {
    const endpoint = await tokenEndpoint(() => ({
      status: 401,
      body: { error: 'invalid_client', error_description: 'Invalid client credentials' },
    }));
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_basic', clientSecret: 'the-admin-secret' },
    });
    const error = (await provider.getToken().catch((e: unknown) => e)) as Error & { code?: string };
    expect(error).toMatchObject({ code: 'idp_error' });
    expect(error.message).toContain('bridge-admin');
    expect(error.message).toContain('invalid_client');
    expect(error.message).not.toContain('the-admin-secret');
    await provider.getToken().catch(() => undefined);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('tells a scope the client was not granted and a token endpoint that does not exist from refused credentials', async () => {
    // Okta refuses a client_credentials request for a scope not granted with 400 invalid_scope; Keycloak answers a
    // token request to a realm it does not have with 404 {"error":"Realm does not exist"} (RealmsResource).
    const endpoint = await tokenEndpoint((n) =>
      n === 1
        ? { status: 400, body: { error: 'invalid_scope', error_description: 'The following scopes are not allowed: okta.apps.manage' } }
        : { status: 404, body: { error: 'Realm does not exist' } },
    );
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_basic', clientSecret: 's' },
    });
    const scope = (await provider.getToken().catch((e: unknown) => e)) as Error & { code?: string };
    expect(scope).toMatchObject({ code: 'idp_error' });
    expect(scope.message).toContain('refused a scope it asked for (invalid_scope: The following scopes are not allowed: okta.apps.manage)');
    expect(scope.message).toContain('Grant the client that scope');
    expect(scope.message).not.toContain('credentials');
    const realm = (await provider.getToken().catch((e: unknown) => e)) as Error & { code?: string };
    expect(realm).toMatchObject({ code: 'idp_error' });
    expect(realm.message).toContain('does not exist (HTTP 404, Realm does not exist)');
    expect(realm.message).not.toContain('credentials');
  });

  it("exposes the token endpoint's refusal on its error: the HTTP status and the OAuth error code", async () => {
    const answers = [
      { status: 401, body: { error: 'invalid_client', error_description: 'Invalid client credentials' } },
      { status: 400, body: { error: 'invalid_scope', error_description: 'The following scopes are not allowed: okta.apps.manage' } },
      { status: 404, body: { error: 'Realm does not exist' } },
      // RFC 6749 §5.2: a client that authenticated with Basic is refused with 401 and a WWW-Authenticate challenge.
      { status: 401, body: { error: 'invalid_client' }, headers: { 'www-authenticate': 'Basic realm="token"' } },
      { status: 502, body: { message: 'bad gateway' } },
    ];
    const endpoint = await tokenEndpoint((n) => answers[n - 1] ?? { status: 500, body: {} });
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_basic', clientSecret: 's' },
    });
    const failures = [];
    for (const _ of answers) failures.push((await provider.getToken().catch((e: unknown) => e)) as Error & { code?: string });
    expect(failures.map((failure) => tokenRefusal(failure))).toEqual([
      { status: 401, oauthError: 'invalid_client' },
      { status: 400, oauthError: 'invalid_scope' },
      { status: 404, oauthError: 'Realm does not exist' },
      { status: 401 },
      // No OAuth error answer: no refusal, whatever the status.
      undefined,
    ]);
    expect(failures.map((failure) => failure.code)).toEqual(['idp_error', 'idp_error', 'idp_error', 'idp_error', 'idp_unavailable']);
    expect(failures[3]?.message).toContain(
      'refused the bridge\'s admin client "bridge-admin" (HTTP 401 with a WWW-Authenticate challenge)',
    );
    expect(tokenRefusal(new Error('invalid_client'))).toBeUndefined();
  });

  it('exposes no refusal when the token endpoint gave no answer or the caller stopped waiting', async () => {
    const unreachable = createClientCredentialsTokenProvider({
      ...base('http://127.0.0.1:1/token'),
      auth: { method: 'client_secret_basic', clientSecret: 's' },
    });
    const error = await unreachable.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'idp_unavailable' });
    expect(tokenRefusal(error)).toBeUndefined();
    const aborted = await unreachable.getToken(AbortSignal.abort()).catch((e: unknown) => e);
    expect(aborted).toMatchObject({ code: 'idp_timeout' });
    expect(tokenRefusal(aborted)).toBeUndefined();
  });

  it('reports a failing token endpoint as idp_unavailable and a rate limit as idp_rate_limited', async () => {
    const endpoint = await tokenEndpoint((n) =>
      n === 1 ? { status: 503, body: { error: 'temporarily_unavailable' } } : { status: 429, body: { error: 'slow_down' } },
    );
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_basic', clientSecret: 's' },
    });
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'idp_unavailable' });
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'idp_rate_limited' });
  });

  it('reports an unreachable token endpoint as idp_unavailable', async () => {
    const provider = createClientCredentialsTokenProvider({
      ...base('http://127.0.0.1:1/token'),
      auth: { method: 'client_secret_basic', clientSecret: 's' },
    });
    await expect(provider.getToken()).rejects.toMatchObject({ code: 'idp_unavailable' });
  });

  it('rejects at once for an aborted signal, without a token request', async () => {
    const endpoint = await tokenEndpoint();
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_basic', clientSecret: 's' },
    });
    await expect(provider.getToken(AbortSignal.abort())).rejects.toMatchObject({ code: 'idp_timeout' });
    expect(endpoint.requests).toHaveLength(0);
    expect(await provider.getToken()).toBe('token-1');
    await expect(provider.getToken(AbortSignal.abort())).rejects.toMatchObject({ code: 'idp_timeout' });
  });

  it('stops waiting when its signal aborts, while the shared token request goes on for the other callers', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const endpoint = await tokenEndpoint(
      (n) => ({ status: 200, body: { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 300 } }),
      () => held,
    );
    const provider = createClientCredentialsTokenProvider({
      ...base(endpoint.url),
      auth: { method: 'client_secret_basic', clientSecret: 's' },
    });
    const giveUp = new AbortController();
    const impatient = provider.getToken(giveUp.signal);
    const patient = provider.getToken();
    const alsoPatient = provider.getToken(new AbortController().signal);
    await expect.poll(() => endpoint.requests.length).toBe(1);
    giveUp.abort(new Error('the operation budget is spent'));
    // Rejected while the token endpoint still holds its answer: the caller does not wait for it.
    const error = (await impatient.catch((e: unknown) => e)) as Error & { code?: string };
    expect(error).toMatchObject({ code: 'idp_timeout' });
    expect(error.message).toContain('Keycloak token endpoint');
    release();
    expect(await patient).toBe('token-1');
    expect(await alsoPatient).toBe('token-1');
    expect(await provider.getToken(new AbortController().signal)).toBe('token-1');
    expect(endpoint.requests).toHaveLength(1);
  });

  it('signs a private_key_jwt assertion with the configured audience and key id', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256' }] });
    let verified: { aud?: unknown; sub?: unknown; iss?: unknown } | undefined;
    const endpoint = await tokenEndpoint((n, form) => {
      void jwtVerify(form.get('client_assertion') ?? '', jwks).then(({ payload }) => (verified = payload));
      return { status: 200, body: { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 3600 } };
    });
    const audience = 'https://example.okta.com/oauth2/v1/token';
    const provider = createClientCredentialsTokenProvider({
      issuer: 'https://example.okta.com',
      tokenEndpoint: endpoint.url,
      clientId: '0oa-service',
      idpName: 'Okta',
      auth: { method: 'private_key_jwt', privateKey, keyId: 'key-1', audience },
      scope: 'okta.clients.manage',
    });
    expect(await provider.getToken()).toBe('token-1');
    expect(endpoint.requests[0]?.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    await expect.poll(() => verified).toMatchObject({ aud: audience, sub: '0oa-service', iss: '0oa-service' });
  });
});
