import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError } from '../src/index.js';
import { createIdpHttpClient, path, staticAuthorization, type AuthorizationSource } from '../src/idp.js';
import { CHANNELS, createJsonLogger, type IdpCallMessage } from '../src/http.js';
import { encodeSegment } from '../src/idp-http/target.js';
import { captureLines, listen, readBody, sendJson } from './helpers.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A scripted IdP: answers the queued responses in order and records every request. */
async function scriptedIdp(script: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | 'hang'>) {
  const seen: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];
  const server = await listen(async (req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: await readBody(req) });
    const next = script.shift() ?? { status: 500 };
    if (next === 'hang') return;
    if (next.body === undefined) {
      res.writeHead(next.status, next.headers);
      res.end();
    } else sendJson(res, next.status, next.body, next.headers);
  });
  close = server.close;
  return { url: server.url, seen };
}

const fast = { baseDelayMs: 1, maxDelayMs: 2 };
const coreVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('path', () => {
  it('encodes every interpolated value as one segment', () => {
    expect(String(path`/clients/${'a/b?c#d'}/secret`)).toBe('/clients/a%2Fb%3Fc%23d/secret');
    expect(String(path`/clients/${'%2F'}`)).toBe('/clients/%252F');
    expect(`${path`/x/${'../admin'}`}`).toBe('/x/..%2Fadmin');
  });

  it('carries its route template: the literal parts, `{id}` for each value, a path put in a path kept with its own', () => {
    const client = (id: string) => path`/oauth2/v1/clients/${id}`;
    const rotate = path`${client('0oa1')}/lifecycle/newSecret`;
    expect(String(rotate)).toBe('/oauth2/v1/clients/0oa1/lifecycle/newSecret');
    expect(rotate.route).toBe('/oauth2/v1/clients/{id}/lifecycle/newSecret');
    expect(path`/providers/oauth2/${42}/`.route).toBe('/providers/oauth2/{id}/');
    expect(path`/api/v1/apps`.route).toBe('/api/v1/apps');
    // A value is one segment even when it looks like a path: only a path made by `path` is kept whole.
    expect(String(path`${'/a/b'}/c`)).toBe('%2Fa%2Fb/c');
  });

  it('refuses dot segments and empty values, which URL parsers would resolve', () => {
    for (const value of ['..', '.', '%2e%2E', '%2E', '']) expect(() => encodeSegment(value)).toThrow(BridgeError);
  });
});

describe('createIdpHttpClient', () => {
  it('keeps the base URL path, sends JSON and query, and parses JSON answers', async () => {
    const idp = await scriptedIdp([{ status: 201, body: { id: 'x' }, headers: { location: '/auth/things/x' } }]);
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: `${idp.url}/auth/`, headers: { 'x-xsrf-header': 'PingFederate' } });
    const res = await client.post(path`/things`, { json: { a: 1 }, query: { q: 'a b', skip: undefined } });
    expect(res).toMatchObject({ status: 201, ok: true, body: { id: 'x' } });
    expect(res.headers.get('location')).toBe('/auth/things/x');
    expect(idp.seen[0]).toMatchObject({ method: 'POST', url: '/auth/things?q=a+b', body: '{"a":1}' });
    expect(idp.seen[0]?.headers['x-xsrf-header']).toBe('PingFederate');
    expect(idp.seen[0]?.headers['content-type']).toBe('application/json');
  });

  it('find reads a 404 as undefined and throws for other failures; probe reports readiness without throwing', async () => {
    const idp = await scriptedIdp([
      { status: 404, body: { error: 'gone' } },
      { status: 200, body: { id: 'x' } },
      { status: 403, body: { error: 'forbidden' } },
      { status: 200 },
      { status: 401 },
    ]);
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: idp.url, retry: { retries: 0 } });
    expect(await client.find('/a', 'reading a')).toBeUndefined();
    expect(await client.find('/b', 'reading b')).toEqual({ id: 'x' });
    await expect(client.find('/c', 'reading c')).rejects.toMatchObject({ code: 'idp_error' });
    expect(await client.probe('/d', 'listing d')).toEqual({ ready: true });
    expect(await client.probe('/e', 'listing e')).toEqual({
      ready: false,
      detail: expect.stringContaining('HTTP 401 to listing e'),
      reason: 'idp_error',
    });
    const down = createIdpHttpClient({ idpName: 'Gone', baseUrl: 'http://127.0.0.1:1', retry: { retries: 0 } });
    expect(await down.probe('/f', 'listing f')).toMatchObject({
      ready: false,
      detail: expect.stringContaining('Could not reach Gone'),
      reason: 'idp_unavailable',
    });
  });

  it("checkAccess turns one GET into a doctor's check: pass, refused with what to grant, or failed with the status", async () => {
    const idp = await scriptedIdp([
      { status: 200, body: [] },
      { status: 403, body: { error: 'insufficient_scope' } },
      { status: 500, body: { error: 'boom' } },
    ]);
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: idp.url, retry: { retries: 0 } });
    const check = { name: 'permission: list clients', fix: 'grant clients.read' };
    expect(await client.checkAccess('/clients', check)).toEqual({ name: check.name, result: 'pass', detail: 'GET answered 200' });
    expect(await client.checkAccess('/clients', check)).toEqual({
      name: check.name,
      result: 'fail',
      detail: expect.stringContaining('HTTP 403'),
      fix: 'grant clients.read',
    });
    const failed = await client.checkAccess('/clients', check);
    expect(failed).toMatchObject({ result: 'fail', detail: expect.stringContaining('HTTP 500') });
    expect(failed.fix).toBeUndefined();
    const down = createIdpHttpClient({ idpName: 'Gone', baseUrl: 'http://127.0.0.1:1', retry: { retries: 0 } });
    expect(await down.checkAccess('/clients', check)).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('Could not reach Gone'),
    });
  });

  it('keeps its connections alive across requests, and closes its pool on close()', async () => {
    const connections: Socket[] = [];
    const server = await listen((_req, res) => sendJson(res, 200, { ok: true }));
    server.server.on('connection', (socket: Socket) => connections.push(socket));
    close = server.close;
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: server.url });
    for (let i = 0; i < 20; i++) expect((await client.get(`/x/${i}`)).body).toEqual({ ok: true });
    // Reused, not one per request (a request may go out while the previous answer is still being settled).
    expect(connections.length).toBeLessThanOrEqual(2);
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connections[0]?.destroyed).toBe(true);
  });

  it('does not wait on close() for a request the IdP hangs on: the request fails at once (a prompt stop)', async () => {
    const idp = await scriptedIdp(['hang']);
    const client = createIdpHttpClient({ idpName: 'Hung IdP', baseUrl: idp.url, retry: { retries: 0 } });
    const pending = client.post('/clients', { json: {} });
    pending.catch(() => undefined);
    while (idp.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    await client.close();
    expect(performance.now() - started).toBeLessThan(500);
    await expect(pending).rejects.toMatchObject({ code: 'idp_unavailable' });
  });

  it('sends through a dispatcher it is given (undici MockAgent), which its close() leaves open', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://idp.example')
      .intercept({ path: '/base/things/a%2Fb?x=1', method: 'GET' })
      .reply(200, { id: 'a/b' }, { headers: { 'content-type': 'application/json', 'x-multi': ['1', '2'] } });
    const client = createIdpHttpClient({ idpName: 'Mocked IdP', baseUrl: 'https://idp.example/base', dispatcher: agent });
    const res = await client.get(path`/things/${'a/b'}`, { query: { x: 1 } });
    expect(res).toMatchObject({ status: 200, ok: true, body: { id: 'a/b' }, path: '/base/things/a%2Fb' });
    expect(res.headers.get('X-Multi')).toBe('1, 2');
    await client.close();
    agent.assertNoPendingInterceptors();
    await agent.close();
  });

  it('sends to an absolute URL the IdP handed out as it is, query included', async () => {
    const idp = await scriptedIdp([{ status: 200, body: {} }]);
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: `${idp.url}/base` });
    await client.get(new URL(`${idp.url}/reg/abc?tenant=1`));
    expect(idp.seen[0]?.url).toBe('/reg/abc?tenant=1');
  });

  it('retries safe methods on 503 and network errors, up to the limit', async () => {
    const idp = await scriptedIdp([{ status: 503 }, { status: 502 }, { status: 200, body: { ok: true } }]);
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: idp.url, retry: fast });
    const answered = await client.get('/x');
    expect(answered.body).toEqual({ ok: true });
    expect(idp.seen).toHaveLength(3);
    // The caller learns it took three attempts: a DELETE answered "gone" on a repeat may have deleted it itself.
    expect(answered.attempts).toBe(3);
    expect((await client.get('/x')).attempts).toBe(1);
  });

  it.each(['POST', 'PUT'] as const)(
    'never retries a %s unless told it is idempotent (the failed attempt may have been processed)',
    async (method) => {
      const idp = await scriptedIdp([{ status: 503 }, { status: 200 }, { status: 503 }, { status: 201 }]);
      const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: idp.url, retry: fast });
      expect((await client.request(method, '/x')).status).toBe(503);
      expect(idp.seen).toHaveLength(1);
      expect((await client.request(method, '/y')).status).toBe(200);
      expect((await client.request(method, '/z', { idempotent: true })).status).toBe(201);
      expect(idp.seen).toHaveLength(4);
    },
  );

  it('never retries a PUT after a connection reset: it may have been processed', async () => {
    let attempts = 0;
    const server = await listen((req) => {
      attempts++;
      req.socket.destroy();
    });
    close = server.close;
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: server.url, retry: fast });
    await expect(client.put('/registration/abc', { json: { redirect_uris: [] } })).rejects.toMatchObject({ code: 'idp_unavailable' });
    expect(attempts).toBe(1);
    await expect(client.delete('/clients/abc')).rejects.toMatchObject({ code: 'idp_unavailable' });
    expect(attempts).toBe(4);
  });

  it('honours a short Retry-After and gives a long one back to the caller at once', async () => {
    const idp = await scriptedIdp([
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 200 },
      { status: 429, headers: { 'retry-after': '120' } },
    ]);
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: idp.url, retry: fast });
    expect((await client.get('/a')).status).toBe(200);
    const limited = await client.get('/b');
    expect(limited.status).toBe(429);
    expect(limited.retryAfterSeconds).toBe(120);
    expect(idp.seen).toHaveLength(3);
    const error = client.errorFromResponse(limited, 'listing things');
    expect(error.code).toBe('idp_rate_limited');
    expect(error.retryAfterSeconds).toBe(120);
  });

  it('reads the rate-limit reset the way the adapter says (Okta: X-Rate-Limit-Reset)', async () => {
    const reset = Math.floor(Date.now() / 1000) + 30;
    const idp = await scriptedIdp([{ status: 429, headers: { 'x-rate-limit-reset': String(reset) } }]);
    const client = createIdpHttpClient({
      idpName: 'Okta',
      baseUrl: idp.url,
      retry: { retries: 0 },
      retryAfterSeconds: (res) => Math.max(0, Number(res.headers.get('x-rate-limit-reset')) - Math.floor(Date.now() / 1000)),
    });
    const res = await client.delete('/c');
    expect(res.retryAfterSeconds).toBeGreaterThanOrEqual(29);
  });

  it('turns a hung IdP into idp_timeout and an unreachable one into idp_unavailable', async () => {
    const idp = await scriptedIdp(['hang']);
    const slow = createIdpHttpClient({ idpName: 'Slow IdP', baseUrl: idp.url, timeoutMs: 50, retry: { retries: 0 } });
    await expect(slow.get('/x')).rejects.toMatchObject({ code: 'idp_timeout' });
    const down = createIdpHttpClient({ idpName: 'Gone IdP', baseUrl: 'http://127.0.0.1:1', retry: { ...fast, retries: 1 } });
    const error = await down.get('/x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'idp_unavailable' });
    expect((error as Error).message).toContain('Gone IdP');
  });

  it('aborts when the caller signal aborts (request deadline)', async () => {
    const idp = await scriptedIdp(['hang']);
    const client = createIdpHttpClient({ idpName: 'Slow IdP', baseUrl: idp.url });
    await expect(client.get('/x', { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({ code: 'idp_timeout' });
  });

  it('after a 401 asks for a fresh token once and retries, even for a POST', async () => {
    const idp = await scriptedIdp([{ status: 401 }, { status: 201 }, { status: 401 }, { status: 401 }]);
    let issued = 0;
    const rejected: string[] = [];
    const auth: AuthorizationSource = { header: async () => `Bearer t${++issued}`, rejected: (header) => void rejected.push(header) };
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: idp.url, authorization: auth });
    const created = await client.post('/x');
    expect(created.status).toBe(201);
    expect(created.attempts).toBe(2);
    expect(idp.seen.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    expect(rejected).toEqual(['Bearer t1']);
    const refused = await client.get('/y');
    expect(refused.status).toBe(401);
    expect(client.errorFromResponse(refused, 'reading y').message).toMatch(/admin credentials were refused/);
  });

  it("turns a refused write into the metadata error Konnect should see, the IdP's reason for the log only", async () => {
    const idp = await scriptedIdp([
      { status: 400, body: { message: 'redirect_uris[0] must use https' } },
      { status: 422, body: { message: 'grantTypes contains an unknown value' } },
      { status: 409, body: { message: 'name already in use' } },
      { status: 503 },
    ]);
    const client = createIdpHttpClient({ idpName: 'Test IdP', baseUrl: idp.url, retry: { retries: 0 } });
    const refusal = async () => client.refusal(await client.post('/clients'), 'the client');
    const redirect = await refusal();
    expect(redirect).toMatchObject({
      code: 'invalid_redirect_uri',
      message: 'Test IdP refused the client (HTTP 400): redirect_uris[0] must use https',
      publicDescription:
        'Test IdP refused the redirect URIs of this application. Check them, or ask your platform team which ones the identity provider accepts.',
    });
    const metadata = await refusal();
    expect(metadata).toMatchObject({
      code: 'invalid_client_metadata',
      message: expect.stringContaining('grantTypes contains an unknown value'),
    });
    expect(metadata.publicDescription).not.toContain('grantTypes');
    const conflict = await refusal();
    expect(conflict).toMatchObject({ code: 'conflict', message: expect.stringContaining('name already in use') });
    expect(conflict.publicDescription).not.toContain('name already in use');
    expect(await refusal()).toMatchObject({ code: 'idp_unavailable' });
  });

  it('maps unexpected statuses to errors that carry the IdP message but not credentials', async () => {
    const idp = await scriptedIdp([
      { status: 400, body: { errorMessage: 'Invalid redirect: Bearer abc.def' } },
      { status: 500, body: 'oops' },
    ]);
    const client = createIdpHttpClient({ idpName: 'Keycloak', baseUrl: idp.url, retry: { retries: 0 } });
    const bad = client.errorFromResponse(await client.post('/a'), 'creating the client');
    expect(bad.code).toBe('idp_error');
    expect(bad.message).toBe('Keycloak answered HTTP 400 to creating the client: Invalid redirect: Bearer [REDACTED].');
    expect(client.errorFromResponse(await client.post('/b'), 'x').code).toBe('idp_unavailable');
  });

  it('names each call by the route template its path was built from, never by an id; anything else is `other`', async () => {
    const idp = await scriptedIdp(Array.from({ length: 6 }, () => ({ status: 200, body: {} })));
    const client = createIdpHttpClient({ idpName: 'Okta', baseUrl: `${idp.url}/base`, retry: { retries: 0 } });
    const calls: IdpCallMessage[] = [];
    const listener = (message: unknown) => void calls.push(message as IdpCallMessage);
    subscribe(CHANNELS.idpCall, listener);
    try {
      // Short ids, ids without digits, segments with digits (oauth2, v1): the template is what the code wrote.
      const app = (id: string) => path`/oauth2/v1/clients/${id}`;
      await client.post(path`${app('abc')}/lifecycle/newSecret`);
      await client.get(path`/oauth2/v1/clients/${'0oa9'}/secrets/${'xyz'}`);
      await client.get(path`/oauth2/v1/clients`);
      await client.get('/oauth2/v1/clients/plain'); // a plain string: nothing says which parts are ids
      await client.get(new URL(`${idp.url}/reg/abc`));
      await client.get(new URL(`${idp.url}/reg/abc`), { route: '{registration_client_uri}' });
    } finally {
      unsubscribe(CHANNELS.idpCall, listener);
    }
    expect(idp.seen.map((seen) => seen.url)).toEqual([
      '/base/oauth2/v1/clients/abc/lifecycle/newSecret',
      '/base/oauth2/v1/clients/0oa9/secrets/xyz',
      '/base/oauth2/v1/clients',
      '/base/oauth2/v1/clients/plain',
      '/reg/abc',
      '/reg/abc',
    ]);
    expect(calls.map(({ method, route }) => `${method} ${route}`)).toEqual([
      'POST /oauth2/v1/clients/{id}/lifecycle/newSecret',
      'GET /oauth2/v1/clients/{id}/secrets/{id}',
      'GET /oauth2/v1/clients',
      'GET other',
      'GET other',
      'GET {registration_client_uri}',
    ]);
    for (const id of ['abc', '0oa9', 'xyz', 'plain']) expect(JSON.stringify(calls)).not.toContain(id);
  });

  it('sends User-Agent dcr-bridge/<version> (<adapter>), unless the call sets its own', async () => {
    const idp = await scriptedIdp([{ status: 200 }, { status: 200 }, { status: 200 }]);
    const named = createIdpHttpClient({ idpName: 'Okta', baseUrl: idp.url, adapterId: 'okta' });
    await named.get(path`/a`);
    await named.get(path`/b`, { headers: { 'User-Agent': 'custom/1' } });
    await createIdpHttpClient({ idpName: 'Okta', baseUrl: idp.url }).get(path`/c`);
    expect(idp.seen.map((seen) => seen.headers['user-agent'])).toEqual([
      `dcr-bridge/${coreVersion} (okta)`,
      'custom/1',
      `dcr-bridge/${coreVersion}`,
    ]);
  });

  it('logs each call at debug without the Authorization header or secret query values', async () => {
    const idp = await scriptedIdp([{ status: 200 }]);
    const lines = captureLines();
    const client = createIdpHttpClient({
      idpName: 'Test IdP',
      baseUrl: idp.url,
      authorization: staticAuthorization('SSWS very-secret-token'),
      logger: createJsonLogger({ level: 'debug', write: lines.write }),
    });
    await client.get('/x', { query: { client_secret: 'shh', page: 2 } });
    expect(lines.text()).toContain('"status":200');
    expect(lines.text()).not.toContain('very-secret-token');
    expect(lines.text()).not.toContain('shh');
  });
});
