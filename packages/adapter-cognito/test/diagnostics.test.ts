import { request } from 'node:http';
import { CreateUserPoolCommand, CreateUserPoolDomainCommand } from '@aws-sdk/client-cognito-identity-provider';
import { type DcrAdapter, type DiagnosticCheck } from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { konnectApplication, operationContext } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCognitoAdapter } from '../src/index.js';
import { startCognitoEnvironment, type CognitoEnvironment } from './environment.js';

const context = () => operationContext();
const READS = ['DescribeUserPool', 'ListUserPoolClients', 'DescribeUserPoolClient', 'ListUserPoolClientSecrets'];
/** Writes probed on an app client that cannot exist: IAM decides, Cognito finds nothing to change. */
const PROBED_WRITES = ['UpdateUserPoolClient', 'DeleteUserPoolClient', 'AddUserPoolClientSecret', 'DeleteUserPoolClientSecret'];
const WRITES = ['CreateUserPoolClient'];

let env: CognitoEnvironment;
const adapters: DcrAdapter[] = [];
beforeAll(async () => {
  env = await startCognitoEnvironment();
  await env.sdk.send(new CreateUserPoolDomainCommand({ UserPoolId: env.userPoolId, Domain: 'konnect-dev' }));
});
afterAll(async () => {
  for (const adapter of adapters) await adapter.close?.();
  await env.stop();
  env.proxy.api.expectNoProblems();
});

/** An adapter signing with `accessKeyId` (the proxy's IAM knows keys by their id). */
function adapterAs(accessKeyId: string, userPoolId = env.userPoolId): DcrAdapter {
  const adapter = createCognitoAdapter({
    userPoolId,
    region: 'eu-west-1',
    endpoint: env.proxy.url,
    credentials: { accessKeyId, secretAccessKey: 'local' },
  });
  adapters.push(adapter);
  return adapter;
}

async function checksOf(
  adapter: DcrAdapter,
): Promise<{ byName: Record<string, DiagnosticCheck>; checks: DiagnosticCheck[]; targets: string[] }> {
  const before = env.proxy.targets.length;
  const checks = await adapter.diagnostics!.checkPermissions(context());
  return { checks, byName: Object.fromEntries(checks.map((check) => [check.name, check])), targets: env.proxy.targets.slice(before) };
}

/** A client_credentials token request sent to the proxy as if to `tokenEndpoint` (its Host names the pool). */
function tokenRequest(
  tokenEndpoint: string,
  clientId: string,
  clientSecret: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const target = new URL(tokenEndpoint);
  const proxy = new URL(env.proxy.url);
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString();
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: proxy.hostname,
        port: proxy.port,
        method: 'POST',
        path: target.pathname,
        headers: { host: target.host, 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    sent.on('error', reject);
    sent.end(form);
  });
}

describe('doctor: permission checks', () => {
  it('gives the configured endpoint as admin URL, and the regional endpoint without one', () => {
    expect(adapterAs('bridge').diagnostics?.adminUrl).toBe(env.proxy.url);
    const regional = createCognitoAdapter({
      userPoolId: env.userPoolId,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'bridge', secretAccessKey: 'local' },
    });
    adapters.push(regional);
    expect(regional.diagnostics?.adminUrl).toBe('https://cognito-idp.eu-west-1.amazonaws.com');
  });

  it('passes the reads and the probed writes, leaves the create to --write-test with the statement to grant, and changes nothing', async () => {
    const clients = await env.backdoor.countClients();
    const secrets = JSON.stringify([...env.proxy.secrets]);
    const { checks, targets } = await checksOf(adapterAs('bridge'));
    const arn = `arn:aws:cognito-idp:eu-west-1:123456789012:userpool/${env.userPoolId}`;
    expect(checks.map((check) => [check.name, check.result])).toEqual([
      ...[...READS, ...PROBED_WRITES].map((action) => [`permission: cognito-idp:${action}`, 'pass']),
      ...WRITES.map((action) => [`permission: cognito-idp:${action}`, 'skip']),
      ['user pool domain', 'pass'],
    ]);
    for (const check of checks.filter((each) => each.result === 'skip')) {
      expect(check.detail).toContain('--write-test');
      expect(check.fix).toContain(`on "${arn}"`);
    }
    expect(targets).toEqual([...READS, ...PROBED_WRITES]);
    expect(await env.backdoor.countClients()).toBe(clients);
    expect(JSON.stringify([...env.proxy.secrets])).toBe(secrets);
  });

  for (const action of [...READS, ...PROBED_WRITES]) {
    it(`fails cognito-idp:${action}, naming the statement to grant, when IAM denies it`, async () => {
      const key = `no-${action}`;
      env.proxy.deniedActions.set(key, new Set([action]));
      const { byName } = await checksOf(adapterAs(key));
      expect(byName[`permission: cognito-idp:${action}`]).toMatchObject({
        result: 'fail',
        detail: expect.stringContaining('AccessDeniedException'),
        fix: expect.stringContaining(`Allow "cognito-idp:${action}"`),
      });
      for (const other of [...READS, ...PROBED_WRITES].filter((each) => each !== action))
        expect(byName[`permission: cognito-idp:${other}`]?.result).toBe('pass');
    });
  }

  it('makes readiness fail for a read-only IAM identity, naming the writes it lacks', async () => {
    env.proxy.deniedActions.set('read-only', new Set([...PROBED_WRITES, ...WRITES]));
    const report = await adapterAs('read-only').checkReady(context());
    expect(report).toMatchObject({
      ready: false,
      reason: 'idp_error',
      missingPermissions: PROBED_WRITES.map((action) => `permission: cognito-idp:${action}`),
    });
    expect(report.detail).toContain('Allow "cognito-idp:UpdateUserPoolClient"');
    expect((await adapterAs('bridge').checkReady(context())).ready).toBe(true);
  });

  it('fails every read, naming the credentials, when AWS does not know them, and readiness says not ready', async () => {
    env.proxy.unknownKeys.add('revoked');
    const adapter = adapterAs('revoked');
    const { byName } = await checksOf(adapter);
    for (const action of READS)
      expect(byName[`permission: cognito-idp:${action}`]).toMatchObject({
        result: 'fail',
        detail: expect.stringContaining('UnrecognizedClientException'),
        fix: expect.stringContaining('AWS credentials'),
      });
    expect(byName['user pool domain']).toBeUndefined();
    expect((await adapter.checkReady(context())).ready).toBe(false);
  });
});

describe('doctor: IdP version', () => {
  it('names Amazon Cognito and API 2016-04-18, no server version, within the supported range where the client-secret operations answer', async () => {
    const before = env.proxy.targets.length;
    expect(await adapterAs('bridge').diagnostics!.idpVersion!(context())).toEqual({
      product: 'Amazon Cognito',
      supported: expect.stringContaining('2016-04-18 with the client-secret operations'),
      withinSupported: true,
      detail: expect.stringContaining('a hosted service (no server version); API 2016-04-18'),
    });
    expect(env.proxy.targets.slice(before)).toEqual(['ListUserPoolClientSecrets']);
  });

  it('is outside the supported range on an endpoint without the client-secret operations (cognito-local itself)', async () => {
    const emulator = createCognitoAdapter({
      userPoolId: env.userPoolId,
      region: 'eu-west-1',
      endpoint: env.local.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    adapters.push(emulator);
    expect(await emulator.diagnostics!.idpVersion!(context())).toMatchObject({
      product: 'Amazon Cognito',
      withinSupported: false,
      detail: expect.stringContaining('without ListUserPoolClientSecrets'),
    });
  });

  it('cannot tell when IAM refuses the read', async () => {
    env.proxy.deniedActions.set('no-secrets-list', new Set(['ListUserPoolClientSecrets']));
    const found = await adapterAs('no-secrets-list').diagnostics!.idpVersion!(context());
    expect(found.withinSupported).toBeUndefined();
    expect(found.detail).toContain('AccessDeniedException');
  });
});

describe('doctor: token endpoint', () => {
  it("is the prefix domain's /oauth2/token, where a client the adapter created gets a token", async () => {
    const adapter = adapterAs('bridge');
    const tokenEndpoint = await adapter.diagnostics!.tokenEndpoint(context());
    expect(tokenEndpoint).toBe('https://konnect-dev.auth.eu-west-1.amazoncognito.com/oauth2/token');
    const created = await adapter.createClient(
      parseRegistration(konnectApplication({ grant_types: ['client_credentials'], scopes: ['orders/read'] })),
      context(),
    );
    const answer = await tokenRequest(tokenEndpoint, created.clientId, created.clientSecret);
    expect(answer).toMatchObject({ status: 200, body: { access_token: expect.any(String), token_type: 'Bearer' } });
    expect((await tokenRequest(tokenEndpoint, created.clientId, 'not-the-secret')).status).toBe(400);
    await adapter.deleteClient(created.clientId, context());
  });

  it("is the custom domain's /oauth2/token for a pool with one", async () => {
    const other = await env.sdk.send(new CreateUserPoolCommand({ PoolName: 'custom-domain' }));
    const userPoolId = other.UserPool?.Id as string;
    await env.sdk.send(
      new CreateUserPoolDomainCommand({
        UserPoolId: userPoolId,
        Domain: 'auth.example.com',
        CustomDomainConfig: { CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/1a2b3c4d' },
      }),
    );
    expect(await adapterAs('bridge', userPoolId).diagnostics!.tokenEndpoint(context())).toBe('https://auth.example.com/oauth2/token');
  });

  it('fails, saying to add a domain, for a pool without one', async () => {
    const bare = await env.sdk.send(new CreateUserPoolCommand({ PoolName: 'no-domain' }));
    const adapter = adapterAs('bridge', bare.UserPool?.Id as string);
    await expect(adapter.diagnostics!.tokenEndpoint(context())).rejects.toThrow('has no domain');
    const { byName } = await checksOf(adapter);
    expect(byName['user pool domain']).toMatchObject({ result: 'fail', fix: expect.stringContaining('Add a domain') });
  });
});
