import { type DcrAdapter, type DiagnosticCheck } from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { konnectApplication, operationContext } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPingFederateAdapter, type PingFederateAdminAuth } from '../src/index.js';
import { startFakePingFederate, type FakePingFederate } from './fake-pingfederate.js';
import { createPingFederateApiDescription } from './vendor/pingfederate-api.js';

const context = () => operationContext();
const READ_CLIENTS = 'permission: Admin (list and read OAuth clients)';
const READ_SCOPES = 'permission: Admin (read scope management)';
const WRITE_CLIENTS = 'permission: Admin (create, update and delete OAuth clients)';

let pf: FakePingFederate;
const adapters: DcrAdapter[] = [];
const api = createPingFederateApiDescription();
beforeAll(async () => {
  pf = await startFakePingFederate({ api });
});
afterAll(async () => {
  for (const adapter of adapters) await adapter.close?.();
  await pf.close();
  api.expectNoProblems();
});

function adapterWith(auth: PingFederateAdminAuth): DcrAdapter {
  const adapter = createPingFederateAdapter({ adminUrl: pf.adminUrl, auth });
  adapters.push(adapter);
  return adapter;
}

/** The doctor's checks by name, and the admin API requests they made. */
async function checksOf(
  adapter: DcrAdapter,
): Promise<{ checks: DiagnosticCheck[]; byName: Record<string, DiagnosticCheck>; requests: string[] }> {
  const before = pf.requests.length;
  const checks = await adapter.diagnostics!.checkPermissions(context());
  return { checks, byName: Object.fromEntries(checks.map((check) => [check.name, check])), requests: pf.requests.slice(before) };
}

describe('doctor: permission checks', () => {
  it('gives the configured admin URL', () => {
    expect(adapterWith(pf.admin).diagnostics?.adminUrl).toBe(pf.adminUrl);
  });

  it('passes every check for an account with the Admin role that may read its roles, with GETs only', async () => {
    const { checks, requests } = await checksOf(adapterWith(pf.addAccount({ roles: ['ADMINISTRATOR', 'USER_ADMINISTRATOR'] })));
    expect(checks.map((check) => [check.name, check.result])).toEqual([
      [READ_CLIENTS, 'pass'],
      [READ_SCOPES, 'pass'],
      [WRITE_CLIENTS, 'pass'],
    ]);
    expect(checks[2]?.detail).toContain('ADMINISTRATOR');
    expect(requests.length).toBe(3);
    expect(requests.every((line) => line.startsWith('GET '))).toBe(true);
  });

  it('reads, and leaves the write half to --write-test, for the least-privileged account (Admin only)', async () => {
    const { byName } = await checksOf(adapterWith(pf.admin));
    expect(byName[READ_CLIENTS]?.result).toBe('pass');
    expect(byName[READ_SCOPES]?.result).toBe('pass');
    expect(byName[WRITE_CLIENTS]).toMatchObject({ result: 'skip', detail: expect.stringContaining('--write-test') });
    expect(byName[WRITE_CLIENTS]?.detail).toContain('answered 403');
  });

  it('fails the write check of an Auditor, read-only: it reads everything and can write nothing', async () => {
    const auditor = pf.addAccount({ roles: [], auditor: true });
    const { byName } = await checksOf(adapterWith(auditor));
    expect(byName[READ_CLIENTS]?.result).toBe('pass');
    expect(byName[WRITE_CLIENTS]).toMatchObject({
      result: 'fail',
      detail: expect.stringContaining('Auditor'),
      fix: expect.stringContaining(`give the account "${auditor.username}" the Admin role, and untick Auditor`),
    });
  });

  it('fails every check, naming the Admin role, for an account without it', async () => {
    const { byName } = await checksOf(adapterWith(pf.addAccount({ roles: ['USER_ADMINISTRATOR', 'CRYPTO_ADMINISTRATOR'] })));
    for (const name of [READ_CLIENTS, READ_SCOPES, WRITE_CLIENTS])
      expect(byName[name]).toMatchObject({ result: 'fail', fix: expect.stringContaining('the Admin role') });
    expect(byName[WRITE_CLIENTS]?.detail).toContain('USER_ADMINISTRATOR, CRYPTO_ADMINISTRATOR');
  });

  it('fails the read checks for refused credentials, never showing the password, and readiness says not ready', async () => {
    const adapter = adapterWith({ username: pf.admin.username, password: 'wrong-password' });
    const { byName } = await checksOf(adapter);
    expect(byName[READ_CLIENTS]).toMatchObject({ result: 'fail', detail: expect.stringContaining('401') });
    expect(JSON.stringify(byName)).not.toContain('wrong-password');
    expect((await adapter.checkReady(context())).ready).toBe(false);
  });

  it('leaves the role of an OAuth admin client to --write-test, after reading with its token', async () => {
    const { byName, requests } = await checksOf(adapterWith({ tokenEndpoint: `${pf.runtimeUrl}/as/token.oauth2`, ...pf.oauthAdmin }));
    expect(byName[READ_CLIENTS]?.result).toBe('pass');
    expect(byName[WRITE_CLIENTS]).toMatchObject({ result: 'skip', detail: expect.stringContaining('oauth2.properties') });
    expect(requests.filter((line) => line.startsWith('GET /pf-admin-api'))).toHaveLength(2);
    expect(requests.every((line) => line.startsWith('GET ') || line === 'POST /as/token.oauth2')).toBe(true);
  });
});

describe('doctor: token endpoint', () => {
  it("is the runtime base URL's /as/token.oauth2, where a client the adapter created gets a token", async () => {
    const adapter = adapterWith(pf.admin);
    const tokenEndpoint = await adapter.diagnostics!.tokenEndpoint(context());
    expect(tokenEndpoint).toBe(`${pf.runtimeUrl}/as/token.oauth2`);
    const created = await adapter.createClient(parseRegistration(konnectApplication({ grant_types: ['client_credentials'] })), context());
    const answer = await fetch(tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: created.clientId, client_secret: created.clientSecret }),
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });
    await adapter.deleteClient(created.clientId, context());
  });
});

describe('doctor: IdP version', () => {
  it('reads GET /version in one call: PingFederate 12.1.0.4, within 11.2 – 13.1', async () => {
    const adapter = adapterWith(pf.addAccount({ roles: ['ADMINISTRATOR'] }));
    const before = pf.requests.length;
    expect(await adapter.diagnostics!.idpVersion!(context())).toEqual({
      product: 'PingFederate',
      version: '12.1.0.4',
      supported: '11.2 – 13.1',
      withinSupported: true,
      detail: 'GET /pf-admin-api/v1/version',
    });
    expect(pf.requests.slice(before)).toEqual(['GET /pf-admin-api/v1/version']);
  });

  it('reads the version for an account of any role (an Auditor too)', async () => {
    const adapter = adapterWith(pf.addAccount({ roles: [], auditor: true }));
    expect((await adapter.diagnostics!.idpVersion!(context())).version).toBe('12.1.0.4');
  });

  it.each([
    ['11.1.3.0', false],
    ['11.2.5', true],
    ['13.1.0.2', true],
    ['13.2.0.0', false],
  ] as const)('says whether %s is within the supported range (%s)', async (version, within) => {
    const other = await startFakePingFederate({ version, api });
    const adapter = createPingFederateAdapter({ adminUrl: other.adminUrl, auth: other.admin });
    try {
      expect(await adapter.diagnostics!.idpVersion!(context())).toMatchObject({
        product: 'PingFederate',
        version,
        withinSupported: within,
      });
    } finally {
      await adapter.close?.();
      await other.close();
    }
  });
});

describe('readiness sees write permission (core caches the permission checks)', () => {
  it('is not ready for an Auditor, which reads clients but may not write them, and ready for the Admin role', async () => {
    const auditor = adapterWith(pf.addAccount({ roles: [], auditor: true }));
    expect(await auditor.checkReady(context())).toMatchObject({
      ready: false,
      reason: 'idp_error',
      missingPermissions: [WRITE_CLIENTS],
    });
    const admin = adapterWith(pf.addAccount({ roles: ['ADMINISTRATOR', 'USER_ADMINISTRATOR'] }));
    expect(await admin.checkReady(context())).toEqual({ ready: true });
  });
});
