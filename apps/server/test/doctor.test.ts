import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCOPES } from '../../../packages/adapter-okta/src/adapter.js';
import { startOrg } from '../../../packages/adapter-okta/test/setup.js';
import { startFakeKeycloak } from '../../../packages/adapter-keycloak/test/fake-keycloak.js';
import { idpTargets, insecureHttp, keycloakSettings, type AdapterId, type IdpTarget } from './idp-targets.js';
import { runCli } from './process.js';

/** `dcr-bridge doctor` as a real process, against every adapter's IdP (the fakes and servers of their own tests). */
const apiKey = 'doctor_api_key_0123456789';

interface Report {
  adapter?: string;
  writeTest: boolean;
  ok: boolean;
  checks: Array<{ group: string; name: string; result: 'pass' | 'fail' | 'skip'; detail?: string; fix?: string }>;
}

async function doctor(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; report: Report; stdout: string }> {
  const run = await runCli(['doctor', '--json', '--timeout', '5000', ...args], { DCR_BRIDGE_API_KEYS: apiKey, ...env });
  try {
    return { code: run.code, report: JSON.parse(run.stdout) as Report, stdout: run.stdout };
  } catch {
    throw new Error(`doctor printed no JSON report (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

const failed = (report: Report) => report.checks.filter((check) => check.result === 'fail');
const group = (report: Report, name: string) => report.checks.filter((check) => check.group === name);

/** The admin credential of each adapter, made wrong. */
const wrongCredentials: Record<AdapterId, Record<string, string> | undefined> = {
  keycloak: { KEYCLOAK_CLIENT_SECRET: 'not-the-secret' },
  okta: { OKTA_API_TOKEN: '00notthetoken0000000000000000000000000000' },
  pingone: { PINGONE_CLIENT_SECRET: 'not-the-secret' },
  pingfederate: { PINGFEDERATE_ADMIN_PASSWORD: 'not-the-password' },
  // cognito-local accepts any AWS credentials, and rfc7591's initial access token is only used by a write.
  cognito: undefined,
  rfc7591: undefined,
};

/** Each adapter's rotation mode, in doctor's words (see the adapters' READMEs). */
const ROTATION_MODES: Record<AdapterId, string> = {
  rfc7591: 'neither',
  keycloak: 'restore',
  cognito: 'two secrets',
  pingone: 'two secrets',
  pingfederate: 'restore',
  okta: 'two secrets',
};

describe.each(Object.keys(idpTargets) as AdapterId[])('dcr-bridge doctor against %s', (id) => {
  let target: IdpTarget;
  beforeAll(async () => {
    target = await idpTargets[id]();
  }, 60_000);
  afterAll(() => target?.close());

  it('passes every check read-only: nothing is created, nothing is written', async () => {
    const before = target.requests().length;
    const clients = await target.countClients();
    const { code, report } = await doctor(target.env);
    expect(failed(report), JSON.stringify(report, null, 2)).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ adapter: id, writeTest: false, ok: true });
    for (const name of ['configuration', 'reachability', 'credentials', 'permissions'])
      expect(group(report, name).length, name).toBeGreaterThan(0);
    expect(group(report, 'permissions').some((check) => check.result === 'pass')).toBe(true);
    // What a rotation Konnect did not get leaves working, as the adapter's README's Rotation table says.
    expect(group(report, 'configuration').find((check) => check.name === 'rotation')?.detail).toMatch(
      new RegExp(`^${ROTATION_MODES[id]}:`),
    );
    const calls = target.requests().slice(before);
    // Reads only: GETs, admin token requests, and Cognito's read actions (every Cognito action is a POST). Cognito's
    // write permissions are probed on an app client that cannot exist (IAM decides before Cognito looks): no change.
    const cognitoProbes = /^POST \/(UpdateUserPoolClient|DeleteUserPoolClient|AddUserPoolClientSecret|DeleteUserPoolClientSecret)$/;
    expect(
      calls.filter(
        (call) => !/^(GET|HEAD) |token|^POST \/(Describe|List|Get)\w*$/.test(call) && !(id === 'cognito' && cognitoProbes.test(call)),
      ),
      calls.join('\n'),
    ).toEqual([]);
    expect(await target.countClients()).toBe(clients);
  });

  // Cognito's token endpoint is the user pool domain's at amazoncognito.com, which cannot be reached from
  // here (cognito-local has none); the adapter's own diagnostics test proves it against the test proxy.
  it.skipIf(id === 'cognito')(
    'with --write-test: creates a probe, proves its credentials, rotates, deletes it, and leaves nothing behind',
    async () => {
      const clients = await target.countClients();
      const scopes = (target.application.scopes as string[] | undefined) ?? [];
      const { code, stdout, report } = await doctor(
        target.env,
        '--write-test',
        ...(scopes.length > 0 ? ['--scope', scopes.join(',')] : []),
      );
      const steps = group(report, 'write test');
      expect(
        steps.map((step) => `${step.result} ${step.name}`),
        JSON.stringify(report, null, 2),
      ).toEqual([
        'pass create a probe client',
        'pass the probe gets a token',
        'pass rotate its secret',
        'pass the new secret gets a token',
        'pass the old secret is refused',
        'pass delete the probe client',
      ]);
      expect(code).toBe(0);
      expect(await target.countClients()).toBe(clients);
      for (const [name, value] of Object.entries(target.env))
        if (/(SECRET|PASSWORD|TOKEN|_KEY)$/.test(name) && value.length >= 8) expect(stdout, name).not.toContain(value);
    },
  );

  it.skipIf(wrongCredentials[id] === undefined)('reports refused admin credentials with what to change, and exits 1', async () => {
    const { code, report } = await doctor({ ...target.env, ...wrongCredentials[id] });
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(group(report, 'credentials')).toEqual([expect.objectContaining({ result: 'fail', fix: expect.stringContaining('credential') })]);
    expect(JSON.stringify(report)).not.toContain(Object.values(wrongCredentials[id] ?? {})[0]);
  });
});

describe('dcr-bridge doctor: a permission missing', () => {
  it('finds a Keycloak service account without manage-clients read-only, says which role to assign, and skips the write test', async () => {
    const keycloak = await startFakeKeycloak();
    try {
      keycloak.setAdminRoles(['view-clients']);
      const { code, report, stdout } = await doctor(keycloakSettings(keycloak), '--write-test');
      expect(code).toBe(1);
      expect(group(report, 'credentials').filter((check) => check.name === 'admin credentials')).toEqual([
        expect.objectContaining({ result: 'pass', detail: `Keycloak issued client dcr-bridge of realm master an admin token.` }),
      ]);
      expect(failed(report)).toEqual([
        expect.objectContaining({
          group: 'permissions',
          name: 'permission: manage-clients',
          fix: expect.stringContaining('manage-clients'),
        }),
      ]);
      expect(group(report, 'write test')).toEqual([
        expect.objectContaining({ result: 'skip', detail: expect.stringContaining('fix the failures above') }),
      ]);
      expect(stdout).not.toContain(keycloak.admin.clientSecret);
    } finally {
      await keycloak.close();
    }
  });
});

describe('dcr-bridge doctor: one cause, one problem, the right fix', () => {
  it('names the Okta API scope a service app was not granted and where to grant it, once: its key is not blamed, the role check is skipped', async () => {
    const { okta, pem } = await startOrg();
    try {
      okta.grantScopes(DEFAULT_SCOPES.filter((scope) => scope !== 'okta.apps.manage'));
      const env = {
        DCR_BRIDGE_ADAPTER: 'okta',
        OKTA_DOMAIN: okta.url,
        OKTA_CLIENT_ID: okta.serviceApp.clientId,
        OKTA_PRIVATE_KEY: pem,
        ...insecureHttp('OKTA', okta.url),
      };
      const { code, report, stdout } = await doctor(env, '--write-test');
      expect(code).toBe(1);
      expect(failed(report), JSON.stringify(report, null, 2)).toEqual([
        {
          group: 'permissions',
          name: 'permission: okta.apps.manage',
          result: 'fail',
          detail: expect.stringContaining('invalid_scope'),
          fix: expect.stringMatching(
            /^Grant okta\.apps\.manage to the service app in the Okta Admin Console: Applications → Applications → \w+ → Okta API Scopes → Grant/,
          ),
        },
      ]);
      expect(JSON.stringify(report)).not.toMatch(/Check (its|OKTA_CLIENT_ID|the okta) credential/);
      expect(group(report, 'credentials').find((check) => check.name === 'admin credentials')).toMatchObject({ result: 'pass' });
      expect(group(report, 'permissions').find((check) => check.name === 'permission: Application Administrator role')).toMatchObject({
        result: 'skip',
      });
      expect(group(report, 'write test')).toEqual([expect.objectContaining({ result: 'skip' })]);
      expect(stdout).not.toContain('PRIVATE KEY');
    } finally {
      await okta.close();
    }
  });

  it.each([
    ["the bridge's client in that realm (no KEYCLOAK_TOKEN_REALM): the token endpoint answers 404 Realm does not exist", 'customers'],
    ["the bridge's client in master (KEYCLOAK_TOKEN_REALM=master): the admin API answers 404 Realm not found.", 'master'],
  ])('says a misspelt KEYCLOAK_REALM names no realm, once, and skips what depends on it: %s', async (_setup, adminRealm) => {
    const keycloak = await startFakeKeycloak({ adminRealm });
    try {
      const env: Record<string, string> = { ...keycloakSettings(keycloak), KEYCLOAK_REALM: 'custmers' };
      if (adminRealm === 'customers') delete env.KEYCLOAK_TOKEN_REALM;
      const { code, report, stdout } = await doctor(env, '--write-test');
      expect(code).toBe(1);
      expect(failed(report), JSON.stringify(report, null, 2)).toEqual([
        {
          group: 'credentials',
          name: 'realm custmers',
          result: 'fail',
          detail: expect.stringMatching(/Realm (does not exist|not found)/),
          fix: expect.stringMatching(/^Check KEYCLOAK_REALM.* has no realm "custmers"/),
        },
      ]);
      expect(JSON.stringify(report)).not.toContain('KEYCLOAK_CLIENT_SECRET');
      expect([...group(report, 'permissions'), ...group(report, 'write test')]).toEqual([
        {
          group: 'permissions',
          name: 'permissions',
          result: 'skip',
          detail: 'not checked: it depends on "realm custmers", which failed above',
        },
        {
          group: 'write test',
          name: 'write test',
          result: 'skip',
          detail: 'not checked: it depends on "realm custmers", which failed above',
        },
      ]);
      expect(stdout).not.toContain(keycloak.admin.clientSecret);
    } finally {
      await keycloak.close();
    }
  });
});

describe('dcr-bridge doctor: configuration and reachability', () => {
  it('lists every setting problem at once, and checks nothing further', async () => {
    const { code, report } = await doctor({ DCR_BRIDGE_ADAPTER: 'keycloak', PORT: 'eighty', DCR_BRIDGE_API_KEYS: 'short' });
    expect(code).toBe(1);
    const problems = group(report, 'configuration').filter((check) => check.result === 'fail');
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(problems.map((problem) => problem.detail).join('\n')).toMatch(/PORT[\s\S]*KEYCLOAK_URL|KEYCLOAK_URL[\s\S]*PORT/);
    expect(report.checks.every((check) => check.group === 'configuration')).toBe(true);
  });

  it('says when no adapter is configured (dev mode) and exits 0', async () => {
    const { code, report } = await doctor({});
    expect(code).toBe(0);
    expect(report.checks).toEqual([
      expect.objectContaining({ group: 'configuration', result: 'skip', detail: expect.stringContaining('dev mode') }),
    ]);
  });

  it('finds an IdP nobody answers for at its port, and skips what depends on it', async () => {
    const { code, report } = await doctor({
      DCR_BRIDGE_ADAPTER: 'keycloak',
      KEYCLOAK_URL: 'http://127.0.0.1:1',
      KEYCLOAK_ALLOW_INSECURE_HTTP: 'true',
      KEYCLOAK_REALM: 'r',
      KEYCLOAK_CLIENT_ID: 'c',
      KEYCLOAK_CLIENT_SECRET: 'secret-0123456789',
    });
    expect(code).toBe(1);
    expect(group(report, 'reachability')).toEqual([
      expect.objectContaining({ name: 'DNS 127.0.0.1', result: 'pass' }),
      expect.objectContaining({ name: 'TCP 127.0.0.1:1', result: 'fail', fix: expect.stringContaining('port') }),
      // Plain http, as KEYCLOAK_ALLOW_INSECURE_HTTP allows: a warning, not a failure.
      expect.objectContaining({ name: 'transport', result: 'warn', detail: expect.stringContaining('KEYCLOAK_ALLOW_INSECURE_HTTP') }),
    ]);
    expect([...group(report, 'credentials'), ...group(report, 'permissions')].map((check) => check.result)).toEqual(['skip', 'skip']);
  });

  describe('TLS', () => {
    const certificate = new URL('./fixtures/self-signed-cert.pem', import.meta.url);
    let url: string;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const server = createServer(
        { cert: readFileSync(certificate), key: readFileSync(new URL('./fixtures/self-signed-key.pem', import.meta.url)) },
        (_req, res) => res.writeHead(404).end(),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      close = () => new Promise((resolve) => server.close(() => resolve()));
    });
    afterAll(() => close());
    const keycloakAt = (at: string) => ({
      DCR_BRIDGE_ADAPTER: 'keycloak',
      KEYCLOAK_URL: at,
      KEYCLOAK_REALM: 'r',
      KEYCLOAK_CLIENT_ID: 'c',
      KEYCLOAK_CLIENT_SECRET: 'secret-0123456789',
    });

    it('refuses a certificate from a CA the process does not trust, saying how to trust it', async () => {
      const { code, report } = await doctor(keycloakAt(url));
      expect(code).toBe(1);
      expect(group(report, 'reachability').at(-1)).toMatchObject({
        name: expect.stringMatching(/^TLS /),
        result: 'fail',
        fix: expect.stringContaining('NODE_EXTRA_CA_CERTS'),
      });
    });

    it('accepts it once the CA is given with NODE_EXTRA_CA_CERTS, and describes it', async () => {
      const { report } = await doctor({ ...keycloakAt(url), NODE_EXTRA_CA_CERTS: certificate.pathname });
      expect(group(report, 'reachability').find((check) => check.name.startsWith('TLS'))).toMatchObject({
        result: 'pass',
        detail: expect.stringContaining('dcr-bridge doctor test'),
      });
      expect(group(report, 'reachability').at(-1)).toMatchObject({
        name: expect.stringMatching(/^HTTP GET/),
        result: 'pass',
        detail: 'answered 404',
      });
    });
  });
});
