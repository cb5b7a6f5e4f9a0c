import {
  JOURNAL_PREFIX,
  createJsonStore,
  createMemoryDriver,
  readAdapterOptions,
  type DcrAdapter,
  type JournalEntry,
} from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { type BridgeHarness, createCapturingLogger, konnectApplication, operationContext, startBridge } from '@dcr-bridge/conformance';
import { MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPingOneAdapter, dcrBridgeAdapter, type PingOneAdapterOptions } from '../src/index.js';
import { newApplication } from '../src/mapping.js';
import { BRIDGE_PERMISSIONS, startFakePingOne, type FakePingOne } from './fake-pingone.js';
import { createPingOneApiDescription } from './vendor/pingone-api.js';

let p1: FakePingOne;
let bridge: BridgeHarness;
let adapter: DcrAdapter;
const adapterFor = (overrides: Partial<PingOneAdapterOptions> = {}) =>
  createPingOneAdapter({
    environmentId: p1.environmentId,
    apiUrl: p1.apiUrl,
    authUrl: p1.authUrl,
    clientId: p1.worker.clientId,
    clientSecret: p1.worker.clientSecret,
    ...overrides,
  });
/** MockAgent replies as PingOne sends them: JSON bodies with their content type. */
const json = { headers: { 'content-type': 'application/json' } };
/** A context as core's HTTP layer builds it; `answered` says whether Konnect got the answer. */
const contextWith = (answered: Promise<boolean>) => operationContext({ answered });
/** The PingOne Platform API description: every request and answer of this file's fake is checked against it. */
const platformApi = createPingOneApiDescription();
// A small page size, so that looking an application up by name has to follow PingOne's next-page links.
beforeAll(async () => {
  p1 = await startFakePingOne({ pageSize: 3, api: platformApi });
  adapter = adapterFor();
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await p1.close();
  platformApi.expectNoProblems();
});

describe('create', () => {
  it('creates a web app, reads its secret, grants scopes through their resources and marks it', async () => {
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({
        client_name: 'Orders',
        grant_types: ['authorization_code', 'bearer'],
        scopes: ['orders:read', 'orders:write', 'profile'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    expect(res.status).toBe(201);
    const app = p1.app(res.body.client_id);
    expect(app?.body).toMatchObject({
      type: 'WEB_APP',
      protocol: 'OPENID_CONNECT',
      grantTypes: ['AUTHORIZATION_CODE', 'CLIENT_CREDENTIALS'],
      responseTypes: ['CODE'],
      tokenEndpointAuthMethod: 'CLIENT_SECRET_BASIC',
    });
    expect(app?.body.name).toMatch(/^Orders-[a-z0-9]{8}$/);
    expect(app?.body.description).toMatch(/dcr-bridge: \{"managed":true/);
    expect(res.body.client_secret).toBe(app?.secret);
    expect(p1.scopeNames(app!).sort()).toEqual(['orders:read', 'orders:write', 'profile']);
    expect(app?.grants).toHaveLength(2);
  });

  it('deletes the application again when granting scopes fails', async () => {
    const before = p1.appCount();
    p1.failNext('POST', /\/grants$/, 500, { id: 'x', code: 'UNEXPECTED_SERVER_ERROR', message: 'boom' });
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders:read'] }) });
    expect(res.status).toBe(502);
    await adapter.drained?.();
    expect(p1.appCount()).toBe(before);
  });

  it('deletes the application again when reading its secret fails', async () => {
    const before = p1.appCount();
    p1.failNext('GET', /\/secret$/, 403, { id: 'x', code: 'ACCESS_FAILED', message: 'The worker lacks the Application Owner role.' });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('idp_error');
    expect(res.body.error_description).not.toContain('Application Owner');
    await adapter.drained?.();
    expect(p1.appCount()).toBe(before);
  });

  it('names what PingOne refuses, creating nothing', async () => {
    const before = p1.appCount();
    const method = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'private_key_jwt' }) });
    expect(method.body.error_description).toContain('"private_key_jwt"');
    const grant = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['password'] }) });
    expect(grant.body.error_description).toContain('password');
    expect(p1.appCount()).toBe(before);
  });
});

// One worker token for concurrent calls, 429s, client ids kept inside their path segment and a refused
// worker secret: the conformance suite's `idp plumbing` group (test/conformance.test.ts).
describe("rotation (two-phase: the current secret and PingOne's previous one)", () => {
  it("adds the new secret keeping the old one as PingOne's previous secret for 30 days, and ends it (DELETE …/secret) once Konnect got the new one", async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const clientId = created.body.client_id as string;
    let answered: (value: boolean) => void = () => {};
    const rotated = await adapter.rotateSecret!(clientId, contextWith(new Promise<boolean>((resolve) => (answered = resolve))));
    expect(rotated.clientSecret).toBe(p1.app(clientId)?.secret);
    expect(p1.app(clientId)?.previous?.secret).toBe(created.body.client_secret);
    const ahead = (p1.app(clientId)?.previous?.expiresAt ?? 0) - Date.now();
    expect(ahead).toBeGreaterThan(29.9 * 24 * 3_600_000);
    expect(ahead).toBeLessThanOrEqual(30 * 24 * 3_600_000);
    // Until Konnect's connection took the answer, both work.
    expect(await p1.clientCredentials(clientId, created.body.client_secret)).toBe(true);
    expect(await p1.clientCredentials(clientId, rotated.clientSecret)).toBe(true);
    const start = p1.requests.length;
    answered(true);
    await adapter.drained?.();
    expect(p1.requests.slice(start)).toEqual([`DELETE /v1/environments/${p1.environmentId}/applications/${clientId}/secret`]);
    expect(p1.app(clientId)?.previous).toBeUndefined();
    expect(await p1.clientCredentials(clientId, created.body.client_secret)).toBe(false);
    expect(await p1.clientCredentials(clientId, rotated.clientSecret)).toBe(true);
  });

  it("rotations Konnect did not get, twice and across a restart: Konnect's secret keeps working, and the next rotation hands out the one it missed", async () => {
    const journal = createJsonStore(createMemoryDriver());
    const logger = createCapturingLogger();
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const clientId = created.body.client_id as string;
    const konnects = created.body.client_secret as string;
    const first = adapterFor({ journal, logger });
    const missed = (await first.rotateSecret!(clientId, contextWith(Promise.resolve(false)))).clientSecret;
    await first.drained?.();
    // PingOne cannot end its current secret without ending the previous one, Konnect's: both stay valid.
    expect(p1.app(clientId)?.secret).toBe(missed);
    expect(p1.app(clientId)?.previous?.secret).toBe(konnects);
    expect(await p1.clientCredentials(clientId, konnects)).toBe(true);
    const warning = logger.lines.find(
      (line) => line.level === 'warn' && line.clientId === clientId && /previous secret until/.test(line.msg),
    );
    expect(warning?.msg).toContain(new Date(p1.app(clientId)!.previous!.expiresAt).toISOString().slice(0, 16));
    expect(JSON.stringify(logger.lines)).not.toContain(missed);

    // Lost again: a POST would end Konnect's secret, so the secret Konnect missed is handed out instead.
    let start = p1.requests.length;
    expect((await first.rotateSecret!(clientId, contextWith(Promise.resolve(false)))).clientSecret).toBe(missed);
    await first.drained?.();
    expect(p1.requests.slice(start).filter((line) => line.startsWith('POST'))).toEqual([]);
    expect(await p1.clientCredentials(clientId, konnects)).toBe(true);
    await first.close?.();

    // After a restart on the same journal, Konnect gets it at last; then its old secret ends.
    const restarted = adapterFor({ journal, logger });
    start = p1.requests.length;
    expect((await restarted.rotateSecret!(clientId, contextWith(Promise.resolve(true)))).clientSecret).toBe(missed);
    await restarted.drained?.();
    const application = `/v1/environments/${p1.environmentId}/applications/${clientId}`;
    // Cold: the ownership read; the secrets listed (the missed one left out); read again to hand it out; the old one ended.
    expect(p1.requests.slice(start).filter((line) => line.includes('/v1/'))).toEqual([
      `GET ${application}`,
      `GET ${application}/secret`,
      `GET ${application}/secret`,
      `DELETE ${application}/secret`,
    ]);
    expect(await p1.clientCredentials(clientId, konnects)).toBe(false);
    expect(await p1.clientCredentials(clientId, missed)).toBe(true);
    // The next rotation is an ordinary one again.
    const next = (await restarted.rotateSecret!(clientId, contextWith(Promise.resolve(true)))).clientSecret;
    await restarted.drained?.();
    expect(next).not.toBe(missed);
    expect(await p1.clientCredentials(clientId, missed)).toBe(false);
    expect(await p1.clientCredentials(clientId, next)).toBe(true);
    await restarted.close?.();
  });

  it('refuses at construction an overlap longer than PingOne keeps a previous secret', () => {
    expect(() => adapterFor({ rotationOverlapMs: 30 * 24 * 3_600_000 })).toThrow(
      /PingOne keeps an application's previous secret for at most 30 days/,
    );
    expect(adapterFor({ rotationOverlapMs: 29 * 24 * 3_600_000 }).rotation).toEqual({
      mode: 'two-secrets',
      overlapMs: 29 * 24 * 3_600_000,
    });
  });
});

describe('lifecycle (core)', () => {
  it('after a crash, finds the application by its nonce when its id was never journaled, paging through the list', async () => {
    // Three applications made first fill a page (the fake's pageSize is 3): the one to find is on a later one.
    for (let made = 0; made < 3; made++) expect((await bridge.call('POST', '/', { body: konnectApplication() })).status).toBe(201);
    const journal = createJsonStore(createMemoryDriver());
    const crashed = adapterFor({ journal });
    const created = await crashed.createClient(parseRegistration(konnectApplication({ client_name: 'Orders (EU) / prod' })), {
      ...contextWith(new Promise(() => {})),
      deadline: AbortSignal.timeout(0),
    });
    const entries = await journal.list<JournalEntry>(JOURNAL_PREFIX);
    expect(entries).toHaveLength(1);
    const [key, entry] = entries[0]!;
    // PingOne can be searched by nonce, so core journals the id only with the answering mark, which a
    // create past its deadline never writes: the entry holds the nonce alone, as after a crash mid-create.
    expect(entry.clientId).toBeUndefined();
    expect(p1.app(created.clientId)?.body.name).toBe(`Orders (EU) - prod-${entry.nonce}`);
    // The process died here (Konnect's answer never settles, so its own cleanup never starts).
    await journal.set(key, { nonce: entry.nonce, clientName: entry.clientName, startedAt: entry.startedAt });
    const start = p1.requests.length;
    const restarted = adapterFor({ journal });
    expect(await restarted.recover?.({ inFlightMs: 0 })).toEqual({
      open: 1,
      undone: 1,
      neverCreated: 0,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    expect(p1.app(created.clientId)).toBeUndefined();
    const pages = p1.requests
      .slice(start)
      .filter((line) => line.replace(/\?.*$/, '') === `GET /v1/environments/${p1.environmentId}/applications`);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.slice(1).every((line) => line.includes('cursor='))).toBe(true);
  });

  it('does not follow a next-page link that leaves the application list', async () => {
    const journal = createJsonStore(createMemoryDriver());
    const agent = new MockAgent({ enableCallHistory: true });
    agent.disableNetConnect();
    agent
      .get('https://auth.pingone.com')
      .intercept({ path: '/env-1/as/token', method: 'POST' })
      .reply(200, { access_token: 't', token_type: 'Bearer', expires_in: 3600 }, json)
      .persist();
    agent
      .get('https://api.pingone.com')
      .intercept({ path: '/v1/environments/env-1/applications', method: 'GET' })
      .reply(
        200,
        { _embedded: { applications: [] }, _links: { next: { href: 'https://evil.example/v1/environments/env-1/applications?cursor=x' } } },
        json,
      )
      .persist();
    await journal.set(`${JOURNAL_PREFIX}abcd1234`, { nonce: 'abcd1234', clientName: 'Somewhere', startedAt: new Date().toISOString() });
    const foreign = createPingOneAdapter({ environmentId: 'env-1', clientId: 'worker', clientSecret: 's', dispatcher: agent, journal });
    try {
      const recovery = foreign.recover?.({ inFlightMs: 0 });
      // Core retries a search that fails: once the list is read a second time, the first search is over.
      // Closing the adapter ends the retries.
      const listReads = () =>
        agent
          .getCallHistory()
          ?.calls()
          .filter((call) => call.fullUrl === 'https://api.pingone.com/v1/environments/env-1/applications').length ?? 0;
      await vi.waitFor(() => expect(listReads()).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
      await foreign.close?.();
      expect(await recovery).toEqual({ open: 1, undone: 0, neverCreated: 0, unresolved: 1, kept: 0, rotations: 0 });
      expect(
        agent
          .getCallHistory()
          ?.calls()
          .filter((call) => call.origin !== 'https://auth.pingone.com' && call.origin !== 'https://api.pingone.com'),
      ).toEqual([]);
      expect(await journal.list(JOURNAL_PREFIX)).toHaveLength(1);
    } finally {
      await agent.close();
    }
  });

  it('a remembered application deleted behind the bridge: new-secret answers 404 after one read of its secret, and it is forgotten', async () => {
    const clientId = (await bridge.call('POST', '/', { body: konnectApplication() })).body.client_id as string;
    const application = `/v1/environments/${p1.environmentId}/applications/${clientId}`;
    p1.deleteApp(clientId);
    let start = p1.requests.length;
    expect((await bridge.call('POST', `/${clientId}/new-secret`)).status).toBe(404);
    // The rotation reads the secret first (two-secrets: which secrets the application has); its 404 is the answer.
    expect(p1.requests.slice(start)).toEqual([`GET ${application}/secret`]);
    // Found missing, it is forgotten: the next operation reads first.
    start = p1.requests.length;
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(p1.requests.slice(start)).toEqual([`GET ${application}`]);
  });
});

describe('the PingOne Platform API description (test/vendor)', () => {
  it('finds a misspelt field in the application the adapter sends, and an undescribed path', async () => {
    const own = createPingOneApiDescription();
    const strict = await startFakePingOne({ api: own });
    try {
      const token = await fetch(`${strict.authUrl}/${strict.environmentId}/as/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${strict.worker.clientId}:${strict.worker.clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      const { access_token: accessToken } = (await token.json()) as { access_token: string };
      const { redirectUris, ...rest } = newApplication(parseRegistration(konnectApplication()), 'abcd1234');
      const answer = await fetch(`${strict.apiUrl}/environments/${strict.environmentId}/applications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...rest, redirectUri: redirectUris }),
      });
      expect(answer.status).toBe(201);
      const path = `POST /v1/environments/${strict.environmentId}/applications`;
      // The fake stores what it is sent, so its answer carries the misspelt field too.
      expect(own.problems).toEqual([
        `${path}: request body: /redirectUri is not described`,
        `${path}: answer 201: /redirectUri is not described`,
      ]);
      expect(own.checkRequest('GET', `/v1/environments/${strict.environmentId}/application`, undefined)[0]).toMatch(/no such path/);
      expect(() => own.expectNoProblems()).toThrow(/redirectUri is not described/);
    } finally {
      await strict.close();
    }
  });
});

describe('settings', () => {
  it('refuses plain http API and auth URLs unless PINGONE_ALLOW_INSECURE_HTTP=true', () => {
    const required = { PINGONE_ENVIRONMENT_ID: 'env', PINGONE_CLIENT_ID: 'worker', PINGONE_CLIENT_SECRET: 's' };
    expect(() =>
      readAdapterOptions(dcrBridgeAdapter, {
        ...required,
        PINGONE_API_URL: 'http://p1.internal/v1',
        PINGONE_AUTH_URL: 'http://p1.internal',
      }),
    ).toThrow(/PINGONE_API_URL must be an https URL.*PINGONE_ALLOW_INSECURE_HTTP=true.*\n- PINGONE_AUTH_URL must be an https URL/s);
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        ...required,
        PINGONE_API_URL: 'http://p1.internal/v1',
        PINGONE_AUTH_URL: 'http://p1.internal',
        PINGONE_ALLOW_INSECURE_HTTP: 'true',
      }),
    ).toMatchObject({ apiUrl: 'http://p1.internal/v1', authUrl: 'http://p1.internal' });
  });

  it('derives the hosts from the region', () => {
    const options = readAdapterOptions(dcrBridgeAdapter, {
      PINGONE_ENVIRONMENT_ID: 'env',
      PINGONE_REGION: 'eu',
      PINGONE_CLIENT_ID: 'worker',
      PINGONE_CLIENT_SECRET: 's',
    });
    expect(options).toMatchObject({ environmentId: 'env', region: 'eu', clientId: 'worker', timeoutMs: 30_000 });
  });

  it('talks to the regional hosts: auth.pingone.{region} for the token, api.pingone.{region}/v1 for the API', async () => {
    const agent = new MockAgent({ enableCallHistory: true });
    agent.disableNetConnect();
    agent
      .get('https://auth.pingone.com.au')
      .intercept({ path: '/env-1/as/token', method: 'POST' })
      .reply(200, { access_token: 't', token_type: 'Bearer', expires_in: 3600 }, json);
    const api = agent.get('https://api.pingone.com.au');
    api
      .intercept({ path: '/v1/environments/env-1/applications?limit=1', method: 'GET' })
      .reply(200, { _embedded: { applications: [] } }, json);
    // Readiness includes the permission checks (core, cached): the worker's role assignments and the built-in roles.
    api
      .intercept({ path: '/v1/environments/env-1/applications/worker/roleAssignments', method: 'GET' })
      .reply(
        200,
        { _embedded: { roleAssignments: [{ id: 'ra-1', role: { id: 'owner' }, scope: { id: 'env-1', type: 'ENVIRONMENT' } }] } },
        json,
      );
    api
      .intercept({ path: '/v1/roles', method: 'GET' })
      .reply(
        200,
        { _embedded: { roles: [{ id: 'owner', name: 'Application Owner', permissions: BRIDGE_PERMISSIONS.map((id) => ({ id })) }] } },
        json,
      );
    const regional = createPingOneAdapter({
      environmentId: 'env-1',
      region: 'com.au',
      clientId: 'worker',
      clientSecret: 's',
      dispatcher: agent,
    });
    try {
      expect(await regional.checkReady({ ...contextWith(Promise.resolve(true)), signal: AbortSignal.timeout(2000) })).toEqual({
        ready: true,
      });
      expect(
        agent
          .getCallHistory()
          ?.calls()
          .map((call) => `${call.method} ${call.fullUrl}`),
      ).toEqual([
        'POST https://auth.pingone.com.au/env-1/as/token',
        'GET https://api.pingone.com.au/v1/environments/env-1/applications?limit=1',
        'GET https://api.pingone.com.au/v1/environments/env-1/applications/worker/roleAssignments',
        'GET https://api.pingone.com.au/v1/roles',
      ]);
    } finally {
      await regional.close?.();
      await agent.close();
    }
  });

  it('lists every problem at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, { PINGONE_REGION: 'mars', PINGONE_API_URL: 'https://api.example.com/v1' })).toThrow(
      'Invalid pingone settings:\n- PINGONE_ENVIRONMENT_ID is required.\n- PINGONE_REGION must be one of com, eu, ca, com.au, sg, asia (got "mars").\n- PINGONE_CLIENT_ID is required.\n- PINGONE_CLIENT_SECRET is required.\n- PINGONE_API_URL and PINGONE_AUTH_URL go together (or set PINGONE_REGION).',
    );
  });
});
