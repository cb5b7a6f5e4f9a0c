import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError, type DcrAdapter, type OperationContext } from '../src/index.js';
import { PUBLIC_DESCRIPTIONS } from '../src/errors.js';
import { answerClientError, createBridgeApp, createJsonLogger } from '../src/http.js';
import { eventBody, fakeAdapter, konnectBody } from './fixtures.js';
import { captureLines, listen } from './helpers.js';

const API_KEY = 'primary_key_0123456789';
const NEXT_KEY = 'rotated_key_0123456789';

let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeServer?.();
  closeServer = undefined;
});

async function start(adapter: DcrAdapter, options: Partial<Parameters<typeof createBridgeApp>[0]> = {}) {
  const app = createBridgeApp({ adapter, apiKeys: [API_KEY, NEXT_KEY], ...options });
  const server = await listen(app);
  closeServer = server.close;
  return async (method: string, path: string, init: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.key !== null) headers['x-api-key'] = init.key ?? API_KEY;
    if (init.body !== undefined && !('content-type' in headers)) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
  };
}

describe('API key', () => {
  it('refuses a missing or wrong key with 401 JSON and never calls the adapter', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    for (const key of [null, 'wrong_key_0123456789', '']) {
      const res = await call('POST', '/', { body: konnectBody(), key });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: 'unauthorized', error_description: expect.stringContaining('X-API-KEY') });
    }
    expect((await call('DELETE', '/abc', { key: null })).status).toBe(401);
    expect(adapter.calls).toEqual([]);
  });

  it('accepts every configured key, so Konnect keeps working during a key rotation', async () => {
    const call = await start(fakeAdapter());
    expect((await call('POST', '/', { body: konnectBody(), key: API_KEY })).status).toBe(201);
    expect((await call('POST', '/', { body: konnectBody(), key: NEXT_KEY })).status).toBe(201);
  });

  it('refuses to start without keys', () => {
    expect(() => createBridgeApp({ adapter: fakeAdapter(), apiKeys: [] })).toThrow(/API key/);
  });
});

describe('create', () => {
  it('answers 201 with the spec shape, ISO times, no expiry field and no-store', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    const res = await call('POST', '/', { body: konnectBody() });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      client_id: 'id-My app',
      client_secret: 'super-secret-value',
      client_id_issued_at: '2026-01-02T03:04:05.000Z',
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('passes the normalised registration: bearer → client_credentials, Verify ids, unknown fields ignored', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    await call('POST', '/', {
      body: konnectBody({ grant_types: ['bearer', 'client_credentials', 'authorization_code'], future_field: 1 }),
    });
    expect(adapter.createClient).toHaveBeenCalledWith(
      expect.objectContaining({
        grantTypes: ['client_credentials', 'authorization_code'],
        requestedGrantTypes: ['bearer', 'client_credentials', 'authorization_code'],
        konnect: {
          portalId: 'test portal_id',
          organizationId: 'org',
          developerId: 'dev',
          authStrategyId: 'strategy',
          dcrProviderId: 'provider',
        },
      }),
      expect.anything(),
    );
  });

  it('includes client_secret_expires_at when the secret expires', async () => {
    const call = await start(
      fakeAdapter({
        createClient: async () => ({ clientId: 'a', clientSecret: 'b', clientSecretExpiresAt: new Date('2027-01-01T00:00:00Z') }),
      }),
    );
    const res = await call('POST', '/', { body: konnectBody() });
    expect(res.json.client_secret_expires_at).toBe('2027-01-01T00:00:00.000Z');
    expect(Number.isNaN(Date.parse(res.json.client_id_issued_at))).toBe(false);
  });

  it.each([
    [{ client_name: undefined }, 'client_name is required.'],
    [{ client_name: 42 }, 'client_name must be a string.'],
    [{ client_name: '  ' }, 'client_name must not be empty.'],
    [{ grant_types: 'bearer' }, 'grant_types must be an array of strings.'],
    [{ grant_types: [] }, 'grant_types must not be empty.'],
    [{ scopes: [1] }, 'scopes[0] must be a non-empty string.'],
    [{ portal_id: '' }, 'portal_id must not be empty.'],
    [{ dcr_provider_id: undefined }, 'dcr_provider_id is required.'],
    [{ application_description: undefined }, 'application_description is required.'],
  ])('refuses %j with invalid_request naming the field', async (override, description) => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    const res = await call('POST', '/', { body: konnectBody(override) });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: 'invalid_request',
      error_description: `${description} Request id: ${res.headers.get('x-request-id')}.`,
    });
    expect(adapter.calls).toEqual([]);
  });

  it('refuses an unknown grant type with invalid_client_metadata and bad redirect URIs with invalid_redirect_uri', async () => {
    const call = await start(fakeAdapter());
    const grant = await call('POST', '/', { body: konnectBody({ grant_types: ['bearer', 'magic'] }) });
    expect(grant.status).toBe(400);
    expect(grant.json.error).toBe('invalid_client_metadata');
    expect(grant.json.error_description).toContain('grant_types[1] "magic"');
    for (const uri of ['/relative', 'https://app.example.com/cb#frag']) {
      const res = await call('POST', '/', { body: konnectBody({ redirect_uris: [uri] }) });
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('invalid_redirect_uri');
      expect(res.json.error_description).toContain('redirect_uris[0]');
    }
  });

  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,<script>x</script>',
    'vbscript:msgbox',
    'file:///etc/passwd',
    'https://app.example.com/c\rb',
    'https://app.example.com/\tcb',
    'https://app.example.com/cb\nx',
    'https://app.example.com/a b',
  ])('refuses the redirect URI %j before the adapter sees it, on create and on update', async (uri) => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    const created = await call('POST', '/', { body: konnectBody({ redirect_uris: ['https://ok.example.com/cb', uri] }) });
    expect(created.status).toBe(400);
    expect(created.json).toEqual({ error: 'invalid_redirect_uri', error_description: expect.stringContaining('redirect_uris[1]') });
    const updated = await call('POST', '/c/event-hook', { body: eventBody('c', { redirect_uris: [uri] }) });
    expect(updated.status).toBe(400);
    expect(updated.json.error).toBe('invalid_redirect_uri');
    expect(adapter.calls).toEqual([]);
  });

  it('keeps accepting native-app redirect URIs with a private-use scheme (RFC 8252)', async () => {
    const call = await start(fakeAdapter());
    expect(
      (await call('POST', '/', { body: konnectBody({ redirect_uris: ['com.example.app:/oauth2redirect', 'http://127.0.0.1:8080/cb'] }) }))
        .status,
    ).toBe(201);
  });

  it('answers malformed JSON 400, a huge body 413, a non-JSON body 415, a non-object 400', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter, { bodyLimitBytes: 1024 });
    expect((await call('POST', '/', { body: '{"client_name":' })).json).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(/^The request body is not valid JSON\. Request id: [0-9a-f-]{36}\.$/),
    });
    const huge = await call('POST', '/', { body: konnectBody({ application_description: 'x'.repeat(4096) }) });
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('payload_too_large');
    const form = await call('POST', '/', { body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.json.error).toBe('unsupported_media_type');
    const array = await call('POST', '/', { body: [1, 2] });
    expect(array.json).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(/^The request body must be a JSON object\. /),
    });
    const empty = await call('POST', '/', {});
    expect(empty.status).toBe(400);
    expect(adapter.calls).toEqual([]);
  });
});

describe('hostile requests get a JSON 4xx, never a 500 or a bare answer', () => {
  it('answers a client id with malformed percent-encoding 400', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    for (const path of ['/%E0%A4%A', '/%zz/new-secret', '/%/event-hook']) {
      const res = await call(
        path.endsWith('hook') || path.endsWith('secret') ? 'POST' : 'DELETE',
        path,
        path.endsWith('hook') ? { body: eventBody('x') } : {},
      );
      expect(res.status, path).toBe(400);
      expect(res.json).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    }
    expect(adapter.calls).toEqual([]);
  });

  it('answers a corrupt compressed body 400', async () => {
    const adapter = fakeAdapter();
    const server = await listen(createBridgeApp({ adapter, apiKeys: [API_KEY] }));
    closeServer = server.close;
    const send = (body: Buffer) =>
      fetch(`${server.url}/`, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      });
    const corrupt = await send(Buffer.concat([gzipSync(JSON.stringify(konnectBody())).subarray(0, 12), Buffer.from('not gzip at all')]));
    expect(corrupt.status).toBe(400);
    expect(await corrupt.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    expect(adapter.calls).toEqual([]);
    expect((await send(gzipSync(JSON.stringify(konnectBody())))).status).toBe(201);
  });

  it("answers requests that Node's HTTP parser refuses with the same JSON shape (answerClientError)", async () => {
    const server = createServer(createBridgeApp({ adapter: fakeAdapter(), apiKeys: [API_KEY] }));
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const raw of [
        'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
        `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        'NOT HTTP AT ALL\r\n\r\n',
      ]) {
        const answer = await new Promise<string>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.write(raw));
          let text = '';
          socket.on('data', (chunk) => (text += chunk));
          socket.on('close', () => resolve(text));
          socket.on('error', () => resolve(text));
        });
        const [head = '', body = ''] = answer.split('\r\n\r\n');
        expect(head).toMatch(/^HTTP\/1\.1 4(00|31) /);
        expect(head.toLowerCase()).toContain('content-type: application/json');
        expect(JSON.parse(body)).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('routes', () => {
  it('answers unknown routes 404 and wrong methods 405 with Allow, as JSON', async () => {
    const call = await start(fakeAdapter());
    const unknown = await call('GET', '/abc/def/ghi');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('not_found');
    const wrong = await call('GET', '/abc/new-secret');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(wrong.json.error).toBe('method_not_allowed');
    expect((await call('PUT', '/abc')).headers.get('allow')).toBe('DELETE');
  });

  it('serves the DCR API under a base path and health at the root and under it, without a key', async () => {
    const call = await start(fakeAdapter(), { basePath: '/v1/dcr/' });
    expect((await call('POST', '/v1/dcr', { body: konnectBody() })).status).toBe(201);
    expect((await call('POST', '/', { body: konnectBody() })).status).toBe(404);
    expect((await call('DELETE', '/v1/dcr/abc')).status).toBe(204);
    for (const path of ['/healthz', '/readyz', '/v1/dcr/healthz', '/v1/dcr/readyz']) {
      const res = await call('GET', path, { key: null });
      expect(res.status, path).toBe(200);
    }
  });

  it('readyz says why it is not ready as an error code, never the detail', async () => {
    let hang = false;
    const checkReady = () =>
      hang
        ? new Promise<never>(() => undefined)
        : Promise.resolve({
            ready: false,
            detail: 'token endpoint https://idp.internal said invalid_client',
            reason: 'idp_error' as const,
          });
    const call = await start(fakeAdapter({ checkReady }), { readinessTimeoutMs: 50 });
    const res = await call('GET', '/readyz', { key: null });
    expect([res.status, res.json]).toEqual([503, { status: 'not_ready', reason: 'idp_error' }]);
    hang = true;
    expect((await call('GET', '/readyz', { key: null })).json).toEqual({ status: 'not_ready', reason: 'idp_timeout' });
  });

  it('readyz answers 503 revealing nothing when the adapter is not ready, and while draining', async () => {
    let draining = false;
    const call = await start(
      fakeAdapter({ checkReady: async () => ({ ready: false, detail: 'token endpoint said invalid_client for secret xyz' }) }),
      {
        isDraining: () => draining,
      },
    );
    const res = await call('GET', '/readyz', { key: null });
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status: 'not_ready', reason: 'not_ready' });
    draining = true;
    expect((await call('GET', '/readyz', { key: null })).json).toEqual({ status: 'draining' });
    expect((await call('GET', '/healthz', { key: null })).status).toBe(200);
  });

  it('refuses dot-segment client ids before the adapter sees them', async () => {
    const adapter = fakeAdapter();
    const app = createBridgeApp({ adapter, apiKeys: [API_KEY] });
    const server = await listen(app);
    closeServer = server.close;
    // fetch would normalise the dot segment away; a raw request sends the path as an attacker would.
    const status = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      const req = request({ hostname, port, path: '/%2E%2E/new-secret', method: 'POST', headers: { 'x-api-key': API_KEY } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(adapter.calls).toEqual([]);
  });

  it('hands encoded client ids to the adapter decoded, exactly once', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    await call('DELETE', '/a%2Fb%3Fc');
    expect(adapter.deleteClient).toHaveBeenCalledWith('a/b?c', expect.anything());
  });
});

describe('rotate, delete and events', () => {
  it('rotates with 200 {client_id, client_secret} and no-store; deletes with 204', async () => {
    const call = await start(fakeAdapter());
    const rotated = await call('POST', '/client-1/new-secret');
    expect(rotated.status).toBe(200);
    expect(rotated.json).toEqual({ client_id: 'client-1', client_secret: 'rotated-secret-value' });
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const deleted = await call('DELETE', '/client-1');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
  });

  it('answers unsupported_operation when the adapter cannot rotate or update', async () => {
    const adapter = fakeAdapter({ capabilities: { rotateSecret: false, updateRedirectUris: false, audienceRegistrations: false } });
    const call = await start(adapter);
    const rotate = await call('POST', '/c/new-secret');
    expect(rotate.status).toBe(400);
    expect(rotate.json.error).toBe('unsupported_operation');
    const update = await call('POST', '/c/event-hook', { body: eventBody('c') });
    expect(update.status).toBe(400);
    expect(update.json.error).toBe('unsupported_operation');
    expect(adapter.calls).toEqual([]);
  });

  it('acknowledges registrations without calling an adapter that has no audience capability', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    const res = await call('POST', '/c/event-hook', {
      body: eventBody('c', {
        event_type: 'add_registration',
        api_product_version_id: 'v1',
        audience: 'https://api',
        redirect_uris: undefined,
      }),
    });
    expect(res.status).toBe(200);
    expect(adapter.calls).toEqual([]);
  });

  it('passes update_application to the adapter and checks the body', async () => {
    const adapter = fakeAdapter();
    const call = await start(adapter);
    expect((await call('POST', '/c/event-hook', { body: eventBody('c') })).status).toBe(200);
    expect(adapter.applyEvent).toHaveBeenCalledWith(
      'c',
      expect.objectContaining({ type: 'update_application', redirectUris: ['https://new.example.com/cb'] }),
      expect.anything(),
    );
    const mismatch = await call('POST', '/c/event-hook', { body: eventBody('other') });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.error_description).toContain('does not match');
    const badType = await call('POST', '/c/event-hook', { body: eventBody('c', { event_type: 'explode' }) });
    expect(badType.status).toBe(400);
    const noUris = await call('POST', '/c/event-hook', { body: eventBody('c', { redirect_uris: undefined }) });
    expect(noUris.json.error_description).toBe(`redirect_uris is required. Request id: ${noUris.headers.get('x-request-id')}.`);
  });
});

describe('adapter errors', () => {
  it.each([
    [new BridgeError('not_found', 'No client c.'), 404],
    [new BridgeError('invalid_scope', 'Scope "x" does not exist.'), 400],
  ])('maps %s to %i with {error, error_description}: a 4xx says its message, and the request id', async (error, status) => {
    const call = await start(fakeAdapter({ rotateSecret: async () => Promise.reject(error) }));
    const res = await call('POST', '/c/new-secret', { headers: { 'x-request-id': 'req-4xx' } });
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ error: error.code, error_description: `${error.message} Request id: req-4xx.` });
  });

  it.each([
    [new BridgeError('client_not_managed', 'Not ours: no dcr-bridge-managed attribute in realm internal.'), 403],
    [new BridgeError('idp_unavailable', 'Down.'), 502],
    [new BridgeError('idp_error', 'Odd.'), 502],
    [new BridgeError('idp_timeout', 'Slow.'), 504],
    [new BridgeError('idp_rate_limited', 'Slow down.', { retryAfterSeconds: 3 }), 503],
    [new BridgeError('store_unavailable', 'PostgreSQL at db.internal:5432 refused.'), 503],
    [new BridgeError('internal_error', 'Broken.'), 500],
  ])('maps %s to %i with the fixed description of its code, never its message', async (error, status) => {
    const call = await start(fakeAdapter({ rotateSecret: async () => Promise.reject(error) }));
    const res = await call('POST', '/c/new-secret', { headers: { 'x-request-id': 'req-fixed' } });
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ error: error.code, error_description: expect.stringContaining(PUBLIC_DESCRIPTIONS[error.code]!) });
    expect(res.json.error_description).not.toContain(error.message);
    expect(res.json.error_description).toMatch(/req-fixed\.$/);
  });

  it("keeps the IdP's URL, realm and words out of the answer to Konnect, and in the log line of the request", async () => {
    const lines = captureLines();
    const detail =
      'Could not reach Keycloak at http://10.1.2.3:8443/realms/internal (ECONNREFUSED). Check the IdP URL and the network path.';
    const call = await start(fakeAdapter({ createClient: async () => Promise.reject(new BridgeError('idp_unavailable', detail)) }), {
      logger: createJsonLogger({ level: 'info', write: lines.write }),
    });
    const res = await call('POST', '/', { body: konnectBody() });
    expect(res.status).toBe(502);
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json.error).toBe('idp_unavailable');
    expect(res.json.error_description).toBe(
      `The identity provider could not be reached or failed; the request did not complete. Try again later. If it persists, give your platform team the request id ${requestId}.`,
    );
    for (const internal of ['10.1.2.3', '8443', 'realms', 'internal', 'http', 'Keycloak', 'ECONNREFUSED'])
      expect(res.text).not.toContain(internal);
    const failed = lines.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'adapter call failed');
    expect(failed).toMatchObject({ level: 'error', requestId, code: 'idp_unavailable', description: detail });
  });

  it("answers a 4xx with its public description when it has one, its message (the IdP's words) only in the log", async () => {
    const lines = captureLines();
    const refused = new BridgeError(
      'invalid_redirect_uri',
      'Keycloak refused the client (HTTP 400): Invalid redirect uri in realm internal',
      {
        publicDescription: 'Keycloak refused the redirect URIs of this application.',
      },
    );
    const call = await start(fakeAdapter({ createClient: async () => Promise.reject(refused) }), {
      logger: createJsonLogger({ level: 'info', write: lines.write }),
    });
    const res = await call('POST', '/', { body: konnectBody(), headers: { 'x-request-id': 'req-400' } });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: 'invalid_redirect_uri',
      error_description: 'Keycloak refused the redirect URIs of this application. Request id: req-400.',
    });
    expect(lines.text()).toContain('Invalid redirect uri in realm internal');
  });

  it('answers a rate limit 503 with Retry-After', async () => {
    const call = await start(
      fakeAdapter({
        deleteClient: async () => Promise.reject(new BridgeError('idp_rate_limited', 'Slow down.', { retryAfterSeconds: 7 })),
      }),
    );
    const res = await call('DELETE', '/c');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
  });

  it('turns an unknown throw into adapter_failure without leaking its message or stack', async () => {
    const lines = captureLines();
    const call = await start(fakeAdapter({ deleteClient: async () => Promise.reject(new TypeError('boom: client_secret=hunter2')) }), {
      logger: createJsonLogger({ level: 'debug', write: lines.write }),
    });
    const res = await call('DELETE', '/c');
    expect(res.status).toBe(500);
    expect(res.json).toEqual({
      error: 'adapter_failure',
      error_description: expect.stringMatching(
        /^The bridge failed unexpectedly; the request did not complete\. .* request id [0-9a-f-]{36}\.$/,
      ),
    });
    expect(lines.text()).toContain('The fake adapter failed unexpectedly during deleteClient.');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('at ');
    expect(lines.text()).toContain('boom');
  });

  it('answers 504 on time when the adapter overruns its deadline, and lets IdP work go on until the completion budget', async () => {
    let seen: OperationContext | undefined;
    const call = await start(
      fakeAdapter({
        createClient: (_registration, context) => {
          seen = context;
          return new Promise(() => undefined);
        },
      }),
      { operationTimeoutMs: 100, completionTimeoutMs: 400 },
    );
    const res = await call('POST', '/', { body: konnectBody() });
    expect(res.status).toBe(504);
    expect(res.json.error).toBe('idp_timeout');
    expect(seen?.deadline.aborted).toBe(true);
    expect(seen?.signal.aborted).toBe(false);
    expect(await seen?.answered).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(seen?.signal.aborted).toBe(true);
  });

  it('tells the adapter whether Konnect got a successful answer', async () => {
    const contexts: OperationContext[] = [];
    const call = await start(
      fakeAdapter({
        createClient: async (_registration, context) => {
          contexts.push(context);
          return { clientId: 'c', clientSecret: 'super-secret-value' };
        },
      }),
    );
    expect((await call('POST', '/', { body: konnectBody() })).status).toBe(201);
    expect(await contexts[0]?.answered).toBe(true);
  });
});

describe('audit lines', () => {
  it('writes one per Konnect operation: operation, outcome, client id, Konnect ids, request id, duration; never a secret', async () => {
    const lines = captureLines();
    const call = await start(
      fakeAdapter({
        deleteClient: async () => {
          throw new BridgeError('client_not_managed', 'Client x was not created by the bridge.');
        },
      }),
      { logger: createJsonLogger({ level: 'info', write: lines.write }) },
    );
    await call('POST', '/', {
      body: konnectBody({ portal_id: 'portal-1', organization_id: 'org-1', developer_id: 'dev-1' }),
      headers: { 'x-request-id': 'req-create' },
    });
    await call('POST', '/id-My%20app/new-secret', { headers: { 'x-request-id': 'req-rotate' } });
    await call('POST', '/id-My%20app/event-hook', { body: eventBody('id-My app', { application_id: 'app-1' }) });
    await call('POST', '/id-My%20app/event-hook', {
      body: eventBody('id-My app', { event_type: 'add_registration', api_product_version_id: 'v1', redirect_uris: undefined }),
    });
    await call('DELETE', '/someone-elses', { headers: { 'x-request-id': 'req-delete' } });
    const audit = lines.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'audit');
    expect(audit.map(({ operation, outcome, clientId }) => ({ operation, outcome, clientId }))).toEqual([
      { operation: 'createClient', outcome: 'success', clientId: 'id-My app' },
      { operation: 'rotateSecret', outcome: 'success', clientId: 'id-My app' },
      { operation: 'applyEvent(update_application)', outcome: 'success', clientId: 'id-My app' },
      { operation: 'applyEvent(add_registration)', outcome: 'acknowledged', clientId: 'id-My app' },
      { operation: 'deleteClient', outcome: 'client_not_managed', clientId: 'someone-elses' },
    ]);
    expect(audit[0]).toMatchObject({
      requestId: 'req-create',
      portalId: 'portal-1',
      organizationId: 'org-1',
      developerId: 'dev-1',
      level: 'info',
    });
    expect(audit[2]).toMatchObject({ applicationId: 'app-1', portalId: 'portal', organizationId: 'org', developerId: 'dev' });
    expect(audit[4]).toMatchObject({ requestId: 'req-delete' });
    for (const line of audit) expect(typeof line.ms).toBe('number');
    expect(lines.text()).not.toContain('super-secret-value');
    expect(lines.text()).not.toContain('rotated-secret-value');
  });
});

describe('logs', () => {
  it('never contain the client secret or the API key, even at debug level', async () => {
    const lines = captureLines();
    const call = await start(fakeAdapter(), { logger: createJsonLogger({ level: 'debug', write: lines.write }) });
    await call('POST', '/', { body: konnectBody() });
    await call('POST', '/c/new-secret');
    await call('POST', '/', { body: konnectBody(), key: 'wrong_key_0123456789' });
    const text = lines.text();
    expect(lines.lines.length).toBeGreaterThan(3);
    for (const secret of ['super-secret-value', 'rotated-secret-value', API_KEY, 'wrong_key_0123456789'])
      expect(text).not.toContain(secret);
    expect(text).toContain('"status":201');
  });
});
