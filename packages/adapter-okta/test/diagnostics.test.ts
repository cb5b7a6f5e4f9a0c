import { randomUUID } from 'node:crypto';
import { SignJWT, exportPKCS8, generateKeyPair, importPKCS8 } from 'jose';
import { type AdapterDiagnostics, type DcrAdapter, settingNamesOf } from '@dcr-bridge/core';
import { konnectApplication, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCOPES, createOktaAdapter, type OktaAdapterOptions } from '../src/adapter.js';
import { dcrBridgeAdapter } from '../src/module.js';
import { SUPPORTED } from '../src/diagnostics.js';
import { startOrg } from './setup.js';

/** The doctor runs on the adapter the server builds from its settings: its fixes name them. */
const settingNames = settingNamesOf(dcrBridgeAdapter.settings);

const context = operationContext();
const ROLE_CHECK = 'permission: Application Administrator role';

let org: Awaited<ReturnType<typeof startOrg>>;
beforeAll(async () => {
  org = await startOrg();
});
afterAll(async () => {
  await org.okta.close();
  org.okta.api.expectNoProblems();
});
afterEach(() => {
  org.okta.grantScopes(DEFAULT_SCOPES);
  org.okta.setAdminRoles('serviceApp', ['APP_ADMIN']);
  org.okta.setAdminRoles('apiToken', ['APP_ADMIN']);
});

function diagnosticsOf(adapter: DcrAdapter): AdapterDiagnostics {
  if (!adapter.diagnostics) throw new Error('the adapter has no diagnostics');
  return adapter.diagnostics;
}

const serviceApp = (overrides: Partial<Extract<OktaAdapterOptions['auth'], { privateKey: string }>> = {}): OktaAdapterOptions['auth'] => ({
  clientId: org.okta.serviceApp.clientId,
  privateKey: org.pem,
  ...overrides,
});

/** The checks run by a fresh adapter, the Okta calls they made, and the adapter's readiness. */
async function doctor(auth: OktaAdapterOptions['auth']) {
  const adapter = createOktaAdapter({ settingNames, domain: org.okta.url, auth });
  const start = org.okta.requests.length;
  const checks = await diagnosticsOf(adapter).checkPermissions(context);
  const calls = org.okta.requests.slice(start);
  const ready = await adapter.checkReady(context);
  await adapter.close?.();
  return { checks, calls, ready, byName: (name: string) => checks.find((check) => check.name === name) };
}
const writesIn = (calls: string[]) => calls.filter((call) => /^(POST|PUT|PATCH|DELETE) /.test(call) && call !== 'POST /oauth2/v1/token');

describe('doctor, OAuth 2.0 for Okta (service app)', () => {
  it('passes every scope, each seen in a token Okta issued for it alone, and leaves the admin role to --write-test', async () => {
    const { checks, calls, ready } = await doctor(serviceApp());
    expect(checks).toEqual([
      ...DEFAULT_SCOPES.map((scope) => ({
        name: `permission: ${scope}`,
        result: 'pass',
        detail: `Okta issued service app ${org.okta.serviceApp.clientId} a token with ${scope}.`,
      })),
      { name: ROLE_CHECK, result: 'skip', detail: expect.stringContaining('--write-test') },
    ]);
    expect(calls).toContain('GET /api/v1/apps?limit=1');
    expect(writesIn(calls)).toEqual([]);
    expect(ready.ready).toBe(true);
  });

  it('finds a scope the service app was not granted, and names where to grant it', async () => {
    org.okta.grantScopes(DEFAULT_SCOPES.filter((scope) => scope !== 'okta.apps.manage'));
    const { byName, calls, ready } = await doctor(serviceApp());
    expect(byName('permission: okta.apps.manage')).toEqual({
      name: 'permission: okta.apps.manage',
      result: 'fail',
      detail: expect.stringContaining('invalid_scope'),
      fix: `Grant okta.apps.manage to the service app in the Okta Admin Console: Applications → Applications → ${org.okta.serviceApp.clientId} → Okta API Scopes → Grant (needed to create applications, update their redirect URIs, add and retire their client secrets).`,
    });
    expect(byName('permission: okta.apps.manage')?.detail).toContain(
      'The following scopes are not allowed for this request: [okta.apps.manage].',
    );
    expect(byName('permission: okta.apps.manage')?.detail).not.toContain('Check its credentials');
    for (const scope of ['okta.apps.read', 'okta.clients.read', 'okta.clients.manage'])
      expect(byName(`permission: ${scope}`)?.result).toBe('pass');
    // The role is read with the adapter's token, which Okta does not issue while a scope is missing: skipped, not a second failure.
    expect(byName(ROLE_CHECK)).toEqual({
      name: ROLE_CHECK,
      result: 'skip',
      detail:
        "Not checked: it needs the bridge's token, which Okta issues only with every scope granted (permission: okta.apps.manage failed above).",
    });
    expect(writesIn(calls)).toEqual([]);
    expect(ready.ready).toBe(false);
  });

  it("accepts the service app's key when Okta refuses only a scope (invalid_scope): the credentials are not the cause", async () => {
    org.okta.grantScopes(DEFAULT_SCOPES.filter((scope) => scope !== 'okta.apps.manage'));
    const adapter = createOktaAdapter({ settingNames, domain: org.okta.url, auth: serviceApp() });
    try {
      expect(await diagnosticsOf(adapter).checkCredentials!(context)).toEqual([
        {
          name: 'admin credentials',
          result: 'pass',
          detail: `Okta accepted service app ${org.okta.serviceApp.clientId}'s key but refused a scope it asked for: see permissions.`,
        },
      ]);
    } finally {
      await adapter.close?.();
    }
  });

  it('refuses credentials once, naming the settings, when Okta does not know the key (invalid_client)', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const adapter = createOktaAdapter({
      settingNames,
      domain: org.okta.url,
      auth: serviceApp({ privateKey: await exportPKCS8(privateKey) }),
    });
    try {
      expect(await diagnosticsOf(adapter).checkCredentials!(context)).toEqual([
        {
          name: 'admin credentials',
          result: 'fail',
          detail: expect.stringContaining('invalid_client'),
          fix: expect.stringContaining('Check OKTA_CLIENT_ID, OKTA_PRIVATE_KEY and OKTA_PRIVATE_KEY_ID'),
        },
      ]);
    } finally {
      await adapter.close?.();
    }
  });

  it('skips the role check, rather than failing it too, when OKTA_SCOPES leaves out a scope', async () => {
    const adapter = createOktaAdapter({
      settingNames,
      domain: org.okta.url,
      auth: serviceApp({ scopes: DEFAULT_SCOPES.filter((scope) => scope !== 'okta.apps.read') }),
    });
    try {
      const start = org.okta.requests.length;
      const checks = await diagnosticsOf(adapter).checkPermissions(context);
      expect(checks.filter((check) => check.result === 'fail').map((check) => check.name)).toEqual(['permission: okta.apps.read']);
      expect(checks.find((check) => check.name === ROLE_CHECK)?.result).toBe('skip');
      expect(org.okta.requests.slice(start)).not.toContain('GET /api/v1/apps?limit=1');
    } finally {
      await adapter.close?.();
    }
  });

  it('(the fake) answers an API call whose token lacks the scope 403 E0000006, naming the scope in WWW-Authenticate', async () => {
    const { clientId } = org.okta.serviceApp;
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${org.okta.url}/oauth2/v1/token`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(await importPKCS8(org.pem, 'RS256'));
    const issued = await fetch(`${org.okta.url}/oauth2/v1/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'okta.clients.read',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const apps = await fetch(`${org.okta.url}/api/v1/apps?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(apps.status).toBe(403);
    expect(await apps.json()).toMatchObject({ errorCode: 'E0000006' });
    expect(apps.headers.get('www-authenticate')).toContain(
      'scope="okta.apps.read", error="insufficient_scope", error_description="The access token provided does not contain the required scopes."',
    );
  });

  it('finds a scope OKTA_SCOPES leaves out, without asking Okta for it', async () => {
    const { byName } = await doctor(serviceApp({ scopes: DEFAULT_SCOPES.filter((scope) => scope !== 'okta.clients.read') }));
    expect(byName('permission: okta.clients.read')).toEqual({
      name: 'permission: okta.clients.read',
      result: 'fail',
      detail: 'OKTA_SCOPES leaves out okta.clients.read, which the bridge needs to list OAuth clients (readiness).',
      fix: 'Add okta.clients.read to OKTA_SCOPES, or unset OKTA_SCOPES to ask for the default scopes.',
    });
  });

  it('names the options instead of the settings for an adapter built in code', async () => {
    const adapter = createOktaAdapter({ domain: org.okta.url, auth: serviceApp({ scopes: ['okta.apps.read'] }) });
    try {
      const checks = await diagnosticsOf(adapter).checkPermissions(context);
      expect(checks.find((check) => check.name === 'permission: okta.clients.read')?.fix).toBe(
        'Add okta.clients.read to the `scopes` option, or unset the `scopes` option to ask for the default scopes.',
      );
    } finally {
      await adapter.close?.();
    }
  });

  it('fails the role check when the service app has no admin role that may read applications', async () => {
    org.okta.setAdminRoles('serviceApp', []);
    const { byName } = await doctor(serviceApp());
    expect(byName(ROLE_CHECK)).toEqual({
      name: ROLE_CHECK,
      result: 'fail',
      detail: expect.stringContaining('HTTP 403'),
      fix: `In the Okta Admin Console, open application ${org.okta.serviceApp.clientId} → Admin roles, and assign the Application Administrator role.`,
    });
    expect(byName('permission: okta.apps.read')?.result).toBe('pass');
  });

  it("fails every scope check when Okta refuses the service app's key, naming the settings to check, and skips the role check", async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const { checks, ready } = await doctor(serviceApp({ privateKey: await exportPKCS8(privateKey) }));
    expect(checks.map((check) => check.result)).toEqual(['fail', 'fail', 'fail', 'fail', 'skip']);
    for (const check of checks.slice(0, 4))
      expect(check.fix).toBe(
        `Check OKTA_CLIENT_ID, OKTA_PRIVATE_KEY and OKTA_PRIVATE_KEY_ID: Okta issued no token to service app ${org.okta.serviceApp.clientId}.`,
      );
    expect(ready.ready).toBe(false);
  });
});

describe('doctor, API token (SSWS)', () => {
  it("passes when the token's admin holds Application Administrator, read from the admin's role assignments", async () => {
    const { checks, calls, ready } = await doctor({ apiToken: org.okta.apiToken });
    expect(checks).toEqual([
      { name: ROLE_CHECK, result: 'pass', detail: "The API token's admin has Application Administrator (APP_ADMIN)." },
    ]);
    expect(calls).toEqual(['GET /api/v1/users/me', expect.stringMatching(/^GET \/api\/v1\/users\/00u\w+\/roles$/)]);
    expect(ready.ready).toBe(true);
  });

  it('finds a read-only admin read-only, and readiness (which runs these checks) is not ready', async () => {
    org.okta.setAdminRoles('apiToken', ['READ_ONLY_ADMIN']);
    const { checks, ready } = await doctor({ apiToken: org.okta.apiToken });
    expect(checks).toEqual([
      {
        name: ROLE_CHECK,
        result: 'fail',
        detail: expect.stringContaining('Read-only Administrator (READ_ONLY_ADMIN)'),
        fix: expect.stringContaining('Application Administrator role'),
      },
    ]);
    // Every read works, every write would be refused: readiness sees it through the permission check (core, cached 60 s).
    expect(ready).toMatchObject({ ready: false, reason: 'idp_error', missingPermissions: [ROLE_CHECK] });
  });

  it('leaves a custom admin role, and role assignments Okta will not show, to --write-test', async () => {
    org.okta.setAdminRoles('apiToken', ['CUSTOM']);
    expect((await doctor({ apiToken: org.okta.apiToken })).checks).toEqual([
      { name: ROLE_CHECK, result: 'skip', detail: expect.stringMatching(/Bridge operators \(CUSTOM\).*--write-test/) },
    ]);
    org.okta.setAdminRoles('apiToken', ['APP_ADMIN']);
    org.okta.failNext('GET', /^\/api\/v1\/users\/[^/]+\/roles$/, 403, {
      errorCode: 'E0000006',
      errorSummary: 'You do not have permission to perform the requested action',
      errorLink: 'E0000006',
      errorId: 'oae1',
      errorCauses: [],
    });
    expect((await doctor({ apiToken: org.okta.apiToken })).checks).toEqual([
      { name: ROLE_CHECK, result: 'skip', detail: expect.stringContaining('--write-test') },
    ]);
  });

  it('fails when Okta refuses the API token, without showing it', async () => {
    const wrong = `00${'x'.repeat(40)}`;
    const { checks, ready } = await doctor({ apiToken: wrong });
    expect(checks).toEqual([
      {
        name: ROLE_CHECK,
        result: 'fail',
        detail: expect.stringContaining('HTTP 401'),
        fix: expect.stringContaining('OKTA_API_TOKEN was refused'),
      },
    ]);
    expect(JSON.stringify(checks)).not.toContain(wrong);
    expect(ready.ready).toBe(false);
  });
});

describe('doctor: admin URL and token endpoint', () => {
  it('reports the org, and the authorization server where a client the bridge created gets a token', async () => {
    const adapter = createOktaAdapter({ settingNames, domain: org.okta.url, auth: serviceApp() });
    const bridge = await startBridge(adapter);
    try {
      const diagnostics = diagnosticsOf(adapter);
      expect(diagnostics.adminUrl).toBe(org.okta.url);
      const tokenEndpoint = await diagnostics.tokenEndpoint(context);
      expect(tokenEndpoint).toBe(`${org.okta.url}/oauth2/default/v1/token`);
      const created = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['client_credentials'] }) });
      expect(created.status).toBe(201);
      const answer = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${created.body.client_id}:${created.body.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders' }),
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
    } finally {
      await bridge.close();
    }
  });

  it('uses the configured authorization server', async () => {
    const adapter = createOktaAdapter({
      settingNames,
      domain: org.okta.url,
      auth: { apiToken: org.okta.apiToken },
      authorizationServerId: 'aus1a2b3c4d5e6f7g8h9',
    });
    expect(await diagnosticsOf(adapter).tokenEndpoint(context)).toBe(`${org.okta.url}/oauth2/aus1a2b3c4d5e6f7g8h9/v1/token`);
  });
});

describe('doctor: the IdP and its version', () => {
  const told = 'Okta tells no release number through its API';
  it.each([
    { pipeline: undefined, named: 'idx (Identity Engine)' },
    { pipeline: 'v1', named: 'v1 (Classic Engine)' },
  ])('names Okta, no release (Okta tells none), and the org pipeline $named: supported', async ({ pipeline, named }) => {
    const other = await startOrg({ pipeline });
    try {
      for (const auth of [{ apiToken: other.okta.apiToken }, { clientId: other.okta.serviceApp.clientId, privateKey: other.pem }]) {
        const adapter = createOktaAdapter({ settingNames, domain: other.okta.url, auth });
        const start = other.okta.requests.length;
        expect(await diagnosticsOf(adapter).idpVersion?.(context)).toEqual({
          product: 'Okta',
          supported: SUPPORTED,
          withinSupported: true,
          detail: `${told}; GET /.well-known/okta-organization: pipeline ${named}`,
        });
        // One cheap read (and, for a service app, its admin token).
        expect(other.okta.requests.slice(start).filter((line) => line !== 'POST /oauth2/v1/token')).toEqual([
          'GET /.well-known/okta-organization',
        ]);
        await adapter.close?.();
      }
    } finally {
      await other.okta.close();
      other.okta.api.expectNoProblems();
    }
  });

  it('warns about a pipeline the adapter does not know (outside what it supports)', async () => {
    const other = await startOrg({ pipeline: 'v2' });
    try {
      const adapter = createOktaAdapter({ settingNames, domain: other.okta.url, auth: { apiToken: other.okta.apiToken } });
      expect(await diagnosticsOf(adapter).idpVersion?.(context)).toEqual({
        product: 'Okta',
        supported: SUPPORTED,
        withinSupported: false,
        detail: `${told}; GET /.well-known/okta-organization names pipeline "v2", which the adapter does not know (idx or v1)`,
      });
      await adapter.close?.();
    } finally {
      await other.okta.close();
      // "v2" is not in PipelineType's enum: the pinned description says so, as it should.
      expect(other.okta.api.problems).toEqual([
        'GET /.well-known/okta-organization: answer 200: /pipeline must be equal to one of the allowed values',
      ]);
    }
  });

  it('says so, without a version, when the org metadata cannot be read', async () => {
    org.okta.failNext('GET', /^\/\.well-known\/okta-organization$/, 404, {
      errorCode: 'E0000022',
      errorSummary: 'The endpoint does not support the provided HTTP method',
      errorLink: 'E0000022',
      errorId: 'oae2',
      errorCauses: [],
    });
    const adapter = createOktaAdapter({ settingNames, domain: org.okta.url, auth: { apiToken: org.okta.apiToken } });
    const found = await diagnosticsOf(adapter).idpVersion?.(context);
    expect(found).toEqual({
      product: 'Okta',
      supported: SUPPORTED,
      detail: `${told}; GET /.well-known/okta-organization answered 404 without the org's pipeline`,
    });
    expect(found?.version).toBeUndefined();
    await adapter.close?.();
  });
});
