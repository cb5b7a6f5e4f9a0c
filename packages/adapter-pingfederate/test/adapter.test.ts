import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JOURNAL_PREFIX,
  RESTORE_PREFIX,
  createJsonStore,
  createMemoryDriver,
  readAdapterOptions,
  type JournalEntry,
  type StateStore,
} from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { type BridgeHarness, konnectApplication, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newClient } from '../src/mapping.js';
import { createPingFederateAdapter, dcrBridgeAdapter } from '../src/index.js';
import { startFakePingFederate, type FakePingFederate } from './fake-pingfederate.js';
import { createPingFederateApiDescription, PINGFEDERATE_API_VERSION } from './vendor/pingfederate-api.js';

let pf: FakePingFederate;
let bridge: BridgeHarness;
let adapter: ReturnType<typeof createPingFederateAdapter>;
/** PingFederate's own API description: every admin request and answer of this file's fakes is checked against it. */
const api = createPingFederateApiDescription();
beforeAll(async () => {
  pf = await startFakePingFederate({ api });
  adapter = createPingFederateAdapter({ adminUrl: pf.adminUrl, auth: pf.admin, accessTokenManagerId: 'jwt-atm' });
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await pf.close();
  api.expectNoProblems();
});

/** A call to the fake's admin API as an administrator would make it, behind the bridge's back. */
function adminCall(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${pf.adminUrl}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'x-xsrf-header': 'PingFederate',
      authorization: `Basic ${Buffer.from(`${pf.admin.username}:${pf.admin.password}`).toString('base64')}`,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('create and rotate', () => {
  it('creates the client with a bridge-generated 256-bit secret, its settings and the marker', async () => {
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({ client_name: 'Payments Portal', grant_types: ['authorization_code', 'bearer'], scopes: ['read:orders'] }),
    });
    expect(res.status).toBe(201);
    expect(Buffer.from(res.body.client_secret, 'base64url')).toHaveLength(32);
    expect(res.body.client_id).toMatch(/^konnect-payments-portal-[a-z0-9]{8}$/);
    const stored = pf.client(res.body.client_id);
    expect(stored?.client).toMatchObject({
      grantTypes: ['AUTHORIZATION_CODE', 'CLIENT_CREDENTIALS'],
      restrictScopes: true,
      restrictedScopes: ['read:orders'],
      defaultAccessTokenManagerRef: { id: 'jwt-atm' },
    });
    expect(stored?.client.description).toMatch(/^Created by the dcr-bridge conformance suite\ndcr-bridge: \{"managed":true,"portalId":/);
  });

  it('rotates without keeping a secondary secret', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const rotated = await bridge.call('POST', `/${created.body.client_id}/new-secret`);
    expect(rotated.status).toBe(200);
    expect(pf.activeSecrets(created.body.client_id)).toEqual([rotated.body.client_secret]);
  });

  it('rotates through the clientSecret resource and drops secondary secrets an administrator kept', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const id = created.body.client_id as string;
    const kept = await adminCall('PUT', `/oauth/clients/${id}/clientAuth/clientSecret`, {
      secret: 'admin-set',
      secondarySecrets: [{ secret: created.body.client_secret, expiryTime: new Date(Date.now() + 3_600_000).toISOString() }],
    });
    expect(kept.status).toBe(200);
    expect(pf.activeSecrets(id)).toEqual(['admin-set', created.body.client_secret]);
    const start = pf.requests.length;
    const rotated = await bridge.call('POST', `/${id}/new-secret`);
    expect(rotated.status).toBe(200);
    expect(pf.requests.slice(start)).toEqual([
      `GET /pf-admin-api/v1/oauth/clients/${id}`,
      `PUT /pf-admin-api/v1/oauth/clients/${id}/clientAuth/clientSecret`,
    ]);
    expect(pf.activeSecrets(id)).toEqual([rotated.body.client_secret]);
    expect(await pf.clientCredentials(id, created.body.client_secret)).toBe(false);
    expect(await pf.clientCredentials(id, 'admin-set')).toBe(false);
  });

  it("creates clients that keep no old secret whatever the server's Client Secret Retention Period", async () => {
    pf.setSecretRetention(60);
    try {
      const created = await bridge.call('POST', '/', { body: konnectApplication() });
      const id = created.body.client_id as string;
      expect(pf.client(id)?.client).toMatchObject({
        clientSecretRetentionPeriodType: 'OVERRIDE_SERVER_DEFAULT',
        clientSecretRetentionPeriod: 0,
      });
      const rotated = await bridge.call('POST', `/${id}/new-secret`);
      expect(rotated.status).toBe(200);
      // The server's 60 minutes would keep the old secret working as a secondary one: the client's 0 wins.
      expect(await pf.clientCredentials(id, created.body.client_secret)).toBe(false);
      expect(pf.activeSecrets(id)).toEqual([rotated.body.client_secret]);
    } finally {
      pf.setSecretRetention(0);
    }
  });

  it('refuses an auth method PingFederate secrets cannot serve, creating nothing', async () => {
    const before = pf.clientCount();
    const res = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'client_secret_jwt' }) });
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining('"client_secret_jwt"') });
    expect(pf.clientCount()).toBe(before);
  });

  it('turns PingFederate validation errors into 400s (the field and its reason stay in the log)', async () => {
    pf.failNext('POST', /\/oauth\/clients$/, 422, {
      resultId: 'validation_error',
      message: 'Validation error(s) occurred.',
      validationErrors: [{ fieldPath: 'redirectUris[0]', errorId: 'invalid_redirect_uri', message: 'Wildcards are not allowed.' }],
    });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_redirect_uri');
    expect(res.body.error_description).toContain('refused the redirect URIs');
    expect(res.body.error_description).not.toContain('Wildcards are not allowed.');
  });
});

describe("the fake's PingFederate secrets (what restore relies on)", () => {
  it('encrypts a secret anew on every read, takes any read back, and honours secondary secrets until their expiry only', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const id = created.body.client_id as string;
    const secretPath = `/oauth/clients/${id}/clientAuth/clientSecret`;
    const read = async () => ((await (await adminCall('GET', secretPath)).json()) as { encryptedSecret: string }).encryptedSecret;
    const [first, second] = [await read(), await read()];
    expect(first).not.toBe(second);
    expect(first).not.toContain(created.body.client_secret);

    expect((await adminCall('PUT', secretPath, { secret: 'interim', secondarySecrets: [] })).status).toBe(200);
    expect(await pf.clientCredentials(id, created.body.client_secret)).toBe(false);
    // An encryptedSecret read before the change brings the old secret back.
    expect((await adminCall('PUT', secretPath, { encryptedSecret: first, secondarySecrets: [] })).status).toBe(200);
    expect(await pf.clientCredentials(id, created.body.client_secret)).toBe(true);
    expect(await pf.clientCredentials(id, 'interim')).toBe(false);

    const refused = await adminCall('PUT', secretPath, {
      encryptedSecret: 'OBF:JWE:not-ours',
      secondarySecrets: [{ secret: 'no-expiry' }],
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { validationErrors: Array<{ fieldPath: string }> }).validationErrors.map((e) => e.fieldPath)).toEqual(
      ['secret.encryptedSecret', 'secondarySecrets[0].expiryTime'],
    );

    const past = new Date(Date.now() - 1_000).toISOString();
    const future = new Date(Date.now() + 60_000).toISOString();
    const kept = await adminCall('PUT', secretPath, {
      secret: 'primary',
      secondarySecrets: [
        { secret: 'expired', expiryTime: past },
        { secret: 'valid', expiryTime: future },
      ],
    });
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as { secondarySecrets: unknown[] }).secondarySecrets).toHaveLength(1);
    expect(await pf.clientCredentials(id, 'valid')).toBe(true);
    expect(await pf.clientCredentials(id, 'expired')).toBe(false);
    expect(await pf.clientCredentials(id, 'primary')).toBe(true);
  });
});

// Request data kept inside one path segment, one admin OAuth token for concurrent calls, 429s and refused
// admin credentials: the conformance suite's `idp plumbing` group (test/conformance.test.ts).
describe('transport and authentication', () => {
  it('sends the XSRF header PingFederate requires (the fake refuses requests without it)', async () => {
    const bare = await fetch(`${pf.adminUrl}/oauth/clients`, {
      headers: { authorization: `Basic ${Buffer.from(`${pf.admin.username}:${pf.admin.password}`).toString('base64')}` },
    });
    expect(bare.status).toBe(403);
    expect((await bridge.call('DELETE', '/konnect-nobody')).status).toBe(204);
  });

  it('trusts a private CA for the admin port with PINGFEDERATE_CA_FILE, and only then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-pf-tls-'));
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=Test PingFederate CA',
    );
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    );
    const tlsPf = await startFakePingFederate({
      api,
      tls: { key: readFileSync(join(dir, 'server.key'), 'utf8'), cert: readFileSync(join(dir, 'server.pem'), 'utf8') },
    });
    try {
      const trusting = await startBridge(
        createPingFederateAdapter({ adminUrl: tlsPf.adminUrl, auth: tlsPf.admin, caFile: join(dir, 'ca.pem') }),
      );
      const untrustingAdapter = createPingFederateAdapter({ adminUrl: tlsPf.adminUrl, auth: tlsPf.admin });
      const untrusting = await startBridge(untrustingAdapter);
      try {
        const created = await trusting.call('POST', '/', { body: konnectApplication() });
        expect(created.status).toBe(201);
        expect(tlsPf.client(created.body.client_id)).toBeDefined();
        expect((await untrusting.call('POST', '/', { body: konnectApplication() })).status).toBe(502);
      } finally {
        await trusting.close();
        await untrusting.close();
        // Its search for what the failed create may have left keeps failing on TLS: closing ends it.
        await untrustingAdapter.close?.();
      }
    } finally {
      await tlsPf.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lifecycle (core)', () => {
  const context = (answered: Promise<boolean>) => operationContext({ answered });
  const adapterOn = (journal?: StateStore) => createPingFederateAdapter({ adminUrl: pf.adminUrl, auth: pf.admin, journal });

  it('recover() deletes a client a crashed process created before its answer was due, found by its nonce in one lookup', async () => {
    const journal = createJsonStore(createMemoryDriver());
    // Konnect's answer never settles: the entry stays open, as a process that died would leave it.
    const crashed = adapterOn(journal);
    const created = await crashed.createClient(parseRegistration(konnectApplication({ client_name: 'Crashed Portal App' })), {
      ...context(new Promise(() => {})),
      deadline: AbortSignal.timeout(0),
    });
    const entries = await journal.list<JournalEntry>(JOURNAL_PREFIX);
    expect(entries).toHaveLength(1);
    const entry = entries[0]?.[1];
    // PingFederate can be searched by nonce, so core journals the id only with the answering mark, which a
    // create past its deadline never writes; the client id follows from the name and the nonce.
    expect(entry?.clientId).toBeUndefined();
    expect(created.clientId).toBe(`konnect-crashed-portal-app-${entry?.nonce}`);

    const restarted = adapterOn(journal);
    const start = pf.requests.length;
    expect(await restarted.recover?.({ inFlightMs: 0 })).toEqual({
      open: 1,
      undone: 1,
      neverCreated: 0,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    const lookup = `GET /pf-admin-api/v1/oauth/clients/${created.clientId}`;
    expect(pf.requests.slice(start)).toEqual([lookup, lookup, `DELETE /pf-admin-api/v1/oauth/clients/${created.clientId}`]);
    expect(pf.client(created.clientId)).toBeUndefined();
    expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
    await restarted.close?.();
  });

  it('recover() closes an entry whose create never reached PingFederate', async () => {
    const journal = createJsonStore(createMemoryDriver());
    await journal.set(`${JOURNAL_PREFIX}abcd1234`, { nonce: 'abcd1234', clientName: 'Never made', startedAt: new Date().toISOString() });
    const restarted = adapterOn(journal);
    const start = pf.requests.length;
    expect(await restarted.recover?.({ inFlightMs: 0 })).toEqual({
      open: 1,
      undone: 0,
      neverCreated: 1,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    expect(pf.requests.slice(start)).toEqual(['GET /pf-admin-api/v1/oauth/clients/konnect-never-made-abcd1234']);
    expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
    await restarted.close?.();
  });

  describe("restore: Konnect's secret put back through its encryptedSecret", () => {
    const secretPath = (id: string) => `/pf-admin-api/v1/oauth/clients/${id}/clientAuth/clientSecret`;
    const restoreOn = (journal: StateStore, vault: StateStore) =>
      createPingFederateAdapter({ adminUrl: pf.adminUrl, auth: pf.admin, journal, vault });

    it('announces restore, and refuses an overlap at construction (one secret per client)', () => {
      expect(adapter.rotation).toEqual({ mode: 'restore', overlapMs: 0 });
      expect(() => createPingFederateAdapter({ adminUrl: pf.adminUrl, auth: pf.admin, rotationOverlapMs: 60_000 })).toThrow(
        /PingFederate \(pingfederate adapter\) does not/,
      );
    });

    it('puts back the secret Konnect holds when Konnect did not get the new one, keeping only its encryptedSecret meanwhile', async () => {
      const vault = createJsonStore(createMemoryDriver());
      const own = restoreOn(createJsonStore(createMemoryDriver()), vault);
      const created = await own.createClient(parseRegistration(konnectApplication()), context(Promise.resolve(true)));
      const id = created.clientId;
      let answer!: (answered: boolean) => void;
      const start = pf.requests.length;
      const rotated = await own.rotateSecret!(id, context(new Promise((resolve) => (answer = resolve))));
      // While the rotation may still be undone, the vault holds what PingFederate gave: an encrypted value,
      // never the secret Konnect holds in clear.
      const [, record] = (await vault.list<{ secret: string }>(RESTORE_PREFIX))[0] ?? [];
      expect(record?.secret).toMatch(/^pingfederate-encrypted:OBF:JWE:/);
      expect(record?.secret).not.toContain(created.clientSecret);
      expect(await pf.clientCredentials(id, rotated.clientSecret)).toBe(true);
      expect(await pf.clientCredentials(id, created.clientSecret)).toBe(false);

      answer(false);
      await own.drained?.();
      expect(await pf.clientCredentials(id, created.clientSecret)).toBe(true);
      expect(await pf.clientCredentials(id, rotated.clientSecret)).toBe(false);
      expect(pf.activeSecrets(id)).toEqual([created.clientSecret]);
      expect(await vault.list(RESTORE_PREFIX)).toEqual([]);
      // The rotation reads the client (its encryptedSecret is the one kept) and writes the new secret; the
      // put-back reads it again and writes the kept encryptedSecret.
      expect(pf.requests.slice(start).filter((line) => !line.startsWith('POST /as/token.oauth2'))).toEqual([
        `GET /pf-admin-api/v1/oauth/clients/${id}`,
        `PUT ${secretPath(id)}`,
        `GET /pf-admin-api/v1/oauth/clients/${id}`,
        `PUT ${secretPath(id)}`,
      ]);
      await own.close?.();
    });

    it('keeps nothing once Konnect got the new secret: the old one is refused at once', async () => {
      const vault = createJsonStore(createMemoryDriver());
      const own = restoreOn(createJsonStore(createMemoryDriver()), vault);
      const created = await own.createClient(parseRegistration(konnectApplication()), context(Promise.resolve(true)));
      const rotated = await own.rotateSecret!(created.clientId, context(Promise.resolve(true)));
      await own.drained?.();
      expect(await vault.list(RESTORE_PREFIX)).toEqual([]);
      expect(pf.activeSecrets(created.clientId)).toEqual([rotated.clientSecret]);
      await own.close?.();
    });

    it('recover() puts back the secret Konnect holds after a process died with a rotation in flight', async () => {
      const [journal, vault] = [createMemoryDriver(), createMemoryDriver()];
      const crashed = restoreOn(createJsonStore(journal), createJsonStore(vault));
      const created = await crashed.createClient(parseRegistration(konnectApplication()), context(Promise.resolve(true)));
      const id = created.clientId;
      // The rotation's PUT is held at PingFederate; Konnect's deadline passes meanwhile, and the process dies
      // before Konnect's answer settles: PingFederate applies the new secret all the same.
      pf.faults.faultNext('PUT', /\/clientAuth\/clientSecret$/, 'held_then_processed', { delayMs: 300 });
      const deadline = new AbortController();
      let answer!: (answered: boolean) => void;
      const answered = new Promise<boolean>((resolve) => (answer = resolve));
      const rotating = crashed.rotateSecret!(id, { ...context(answered), deadline: deadline.signal });
      setTimeout(() => deadline.abort(), 100);
      const rotated = await rotating;
      await pf.faults.settle();
      expect(pf.activeSecrets(id)).toEqual([rotated.clientSecret]);
      // What the dead process left on disk is all the next one gets.
      const [journalCopy, vaultCopy] = [createMemoryDriver(), createMemoryDriver()];
      for (const [from, to] of [
        [journal, journalCopy],
        [vault, vaultCopy],
      ] as const)
        for (const [k, v] of await from.list('')) await to.set(k, v);
      // It stops (closing first, so that the answer settling now starts nothing at PingFederate).
      const closing = crashed.close?.();
      answer(false);
      await closing;

      const restarted = restoreOn(createJsonStore(journalCopy), createJsonStore(vaultCopy));
      const report = await restarted.recover?.({ inFlightMs: 0 });
      expect(report?.rotations).toBe(1);
      await restarted.drained?.();
      expect(await pf.clientCredentials(id, created.clientSecret)).toBe(true);
      expect(await pf.clientCredentials(id, rotated.clientSecret)).toBe(false);
      expect(await createJsonStore(vaultCopy).list(RESTORE_PREFIX)).toEqual([]);
      await restarted.close?.();
    });
  });

  describe('PingFederate calls per Konnect operation (admin token requests aside)', () => {
    const calls = async <T>(work: () => Promise<T>): Promise<{ result: T; requests: string[] }> => {
      await adapter.drained?.();
      const start = pf.requests.length;
      const result = await work();
      return { result, requests: pf.requests.slice(start).map((line) => line.replace(/konnect-[a-z0-9._-]+/, '{id}')) };
    };
    const admin = '/pf-admin-api/v1';

    it('a remembered client deleted behind the bridge: new-secret answers 404 from its read, delete 204 in one call', async () => {
      const rotatedAway = (await bridge.call('POST', '/', { body: konnectApplication() })).body.client_id as string;
      const deletedAway = (await bridge.call('POST', '/', { body: konnectApplication() })).body.client_id as string;
      for (const id of [rotatedAway, deletedAway]) expect((await adminCall('DELETE', `/oauth/clients/${id}`)).status).toBe(204);

      const rotated = await calls(() => bridge.call('POST', `/${rotatedAway}/new-secret`));
      expect(rotated.result.status).toBe(404);
      expect(rotated.result.body.error).toBe('not_found');
      expect(rotated.requests).toEqual([`GET ${admin}/oauth/clients/{id}`]);

      const deleted = await calls(() => bridge.call('DELETE', `/${deletedAway}`));
      expect(deleted.result.status).toBe(204);
      expect(deleted.requests).toEqual([`DELETE ${admin}/oauth/clients/{id}`]);
    });
  });
});

describe("PingFederate's own API description (test/vendor)", () => {
  it('finds a misspelt field in the client the adapter sends, and an undescribed path', async () => {
    const own = createPingFederateApiDescription();
    const strict = await startFakePingFederate({ api: own });
    try {
      const { client } = newClient(parseRegistration(konnectApplication()), {}, 'abcd1234');
      const { redirectUris, ...rest } = client;
      const answer = await fetch(`${strict.adminUrl}/oauth/clients`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-xsrf-header': 'PingFederate',
          authorization: `Basic ${Buffer.from(`${strict.admin.username}:${strict.admin.password}`).toString('base64')}`,
        },
        body: JSON.stringify({ ...rest, redirectUri: redirectUris }),
      });
      expect(answer.status).toBe(201);
      // The fake stores what it is sent, so its answer carries the misspelt field too.
      expect(own.problems).toEqual([
        'POST /pf-admin-api/v1/oauth/clients: request body: /redirectUri is not described',
        'POST /pf-admin-api/v1/oauth/clients: answer 201: /redirectUri is not described',
      ]);
      expect(own.checkRequest('GET', '/pf-admin-api/v1/oauth/client', undefined)).toEqual([
        `GET /pf-admin-api/v1/oauth/client: no such path in PingFederate ${PINGFEDERATE_API_VERSION} administrative API (pingidentity/pingfederate-go-client)`,
      ]);
      expect(() => own.expectNoProblems()).toThrow(/redirectUri is not described/);
    } finally {
      await strict.close();
    }
  });
});

describe('settings', () => {
  it('refuses a plain http admin URL or OAuth token URL unless PINGFEDERATE_ALLOW_INSECURE_HTTP=true', () => {
    const basic = { PINGFEDERATE_ADMIN_USERNAME: 'bridge', PINGFEDERATE_ADMIN_PASSWORD: 'pw' };
    expect(() =>
      readAdapterOptions(dcrBridgeAdapter, { PINGFEDERATE_ADMIN_URL: 'http://pf.example.com:9999/pf-admin-api/v1', ...basic }),
    ).toThrow(/PINGFEDERATE_ADMIN_URL.*https.*PINGFEDERATE_ALLOW_INSECURE_HTTP/s);
    expect(() =>
      readAdapterOptions(dcrBridgeAdapter, {
        PINGFEDERATE_ADMIN_URL: 'https://pf.example.com:9999/pf-admin-api/v1',
        PINGFEDERATE_OAUTH_TOKEN_URL: 'http://pf.example.com:9031/as/token.oauth2',
        PINGFEDERATE_OAUTH_CLIENT_ID: 'c',
        PINGFEDERATE_OAUTH_CLIENT_SECRET: 's',
      }),
    ).toThrow(/PINGFEDERATE_OAUTH_TOKEN_URL/);
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        PINGFEDERATE_ADMIN_URL: 'http://pf.internal:9999/pf-admin-api/v1',
        PINGFEDERATE_ALLOW_INSECURE_HTTP: 'true',
        ...basic,
      }),
    ).toMatchObject({ adminUrl: 'http://pf.internal:9999/pf-admin-api/v1' });
  });

  it('reads Basic admin credentials and client defaults', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        PINGFEDERATE_ADMIN_URL: 'https://pf.example.com:9999/pf-admin-api/v1',
        PINGFEDERATE_ADMIN_USERNAME: 'bridge',
        PINGFEDERATE_ADMIN_PASSWORD: 'pw',
        PINGFEDERATE_ACCESS_TOKEN_MANAGER_ID: 'jwt',
      }),
    ).toEqual({
      adminUrl: 'https://pf.example.com:9999/pf-admin-api/v1',
      auth: { username: 'bridge', password: 'pw' },
      caFile: undefined,
      accessTokenManagerId: 'jwt',
      timeoutMs: 30_000,
    });
  });

  it('lists every problem at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, { PINGFEDERATE_CA_FILE: '/no/such/ca.pem' })).toThrow(
      'Invalid pingfederate settings:\n- PINGFEDERATE_ADMIN_URL is required.\n- PINGFEDERATE_CA_FILE must be a file that exists (got "/no/such/ca.pem").\n- Set PINGFEDERATE_ADMIN_USERNAME + PINGFEDERATE_ADMIN_PASSWORD, or PINGFEDERATE_OAUTH_TOKEN_URL + PINGFEDERATE_OAUTH_CLIENT_ID + PINGFEDERATE_OAUTH_CLIENT_SECRET.',
    );
    expect(() =>
      readAdapterOptions(dcrBridgeAdapter, {
        PINGFEDERATE_ADMIN_URL: 'https://pf',
        PINGFEDERATE_ADMIN_USERNAME: 'u',
        PINGFEDERATE_OAUTH_CLIENT_ID: 'c',
      }),
    ).toThrow(/not both/);
  });
});
