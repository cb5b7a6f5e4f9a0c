import { AddUserPoolClientSecretCommand, DescribeUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { JOURNAL_PREFIX, createJsonStore, createMemoryDriver, parseRegistration, readAdapterOptions, silentLogger, type DcrAdapter, type OperationContext } from '@dcr-bridge/core';
import { createCapturingLogger, konnectApplication, konnectEvent, startBridge, type BridgeHarness } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCognitoAdapter, dcrBridgeAdapter, type CognitoAdapterOptions } from '../src/index.js';
import { startCognitoEnvironment, type CognitoEnvironment } from './environment.js';

let env: CognitoEnvironment;
let adapter: DcrAdapter;
let bridge: BridgeHarness;
const bridges: BridgeHarness[] = [];
const adapterFor = (overrides: Partial<CognitoAdapterOptions> = {}) =>
  createCognitoAdapter({ userPoolId: env.userPoolId, region: 'eu-west-1', endpoint: env.proxy.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, ...overrides });
const bridgeFor = async (overrides: Partial<CognitoAdapterOptions> = {}) => {
  const started = await startBridge(adapterFor(overrides));
  bridges.push(started);
  return started;
};
const describeClient = async (clientId: string) => (await env.sdk.send(new DescribeUserPoolClientCommand({ UserPoolId: env.userPoolId, ClientId: clientId }))).UserPoolClient;
/** A context as core's HTTP layer builds it; `answered` says whether Konnect got the answer. */
const operation = (answered: Promise<boolean>): OperationContext => ({ signal: new AbortController().signal, deadline: new AbortController().signal, answered, logger: silentLogger, requestId: 't' });
/** The Cognito operations the proxy received since `mark` (an index into its log). */
const callsSince = (mark: number) => env.proxy.targets.slice(mark);

beforeAll(async () => {
  env = await startCognitoEnvironment();
  adapter = adapterFor();
  bridge = await startBridge(adapter);
  bridges.push(bridge);
});
afterAll(async () => {
  for (const started of bridges) await started.close();
  await env.stop();
});

describe('create', () => {
  it('creates an OAuth app client with a secret, Cognito-safe name, scopes and callback URLs', async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication({ client_name: 'Orders <App> #1 ✓', scopes: ['orders/read', 'orders/write'] }) });
    expect(res.status).toBe(201);
    const client = await describeClient(res.body.client_id);
    expect(client?.ClientName).toMatch(/^konnect-Orders-App-1-[a-z0-9]{8}$/);
    expect(client).toMatchObject({ AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ['client_credentials'], AllowedOAuthScopes: ['orders/read', 'orders/write'], CallbackURLs: ['https://app.example.com/callback'] });
    expect(await env.backdoor.canGetToken(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it('refuses client_credentials with a browser flow by default, and says why', async () => {
    const before = await env.backdoor.countClients();
    const res = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['client_credentials', 'authorization_code'], scopes: ['orders/read'] }) });
    expect(res.status).toBe(400);
    expect(res.body.error_description).toContain('Cognito allows client_credentials only on its own');
    await adapter.drained?.();
    expect(await env.backdoor.countClients()).toBe(before);
  });

  it.each([
    ['client_credentials_only', ['client_credentials'], ['code']],
    ['browser_flows_only', ['code'], ['client_credentials']],
  ] as const)('with COGNITO_MIXED_FLOWS=%s keeps %j and logs what it dropped', async (policy, kept, dropped) => {
    const logger = createCapturingLogger();
    const local = await startBridge(adapterFor({ mixedFlows: policy }), { logger });
    bridges.push(local);
    const res = await local.call('POST', '/', { body: konnectApplication({ grant_types: ['bearer', 'authorization_code'], scopes: policy === 'browser_flows_only' ? ['openid'] : ['orders/read'] }) });
    expect(res.status).toBe(201);
    expect((await describeClient(res.body.client_id))?.AllowedOAuthFlows).toEqual(kept);
    expect(logger.lines.find((line) => line.level === 'warn')).toMatchObject({ dropped });
  });

  it('names an unknown scope, refuses scopeless OAuth clients unless defaults are set', async () => {
    const unknown = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/delete'] }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'invalid_scope', error_description: expect.stringContaining('orders/delete') });
    const none = await bridge.call('POST', '/', { body: konnectApplication({ scopes: [] }) });
    expect(none.body.error_description).toContain('COGNITO_DEFAULT_SCOPES');
    const withDefaults = await bridgeFor({ defaultScopes: ['orders/read'] });
    const created = await withDefaults.call('POST', '/', { body: konnectApplication({ scopes: [] }) });
    expect((await describeClient(created.body.client_id))?.AllowedOAuthScopes).toEqual(['orders/read']);
  });

  it.each(['none', 'private_key_jwt', 'client_secret_jwt', 'tls_client_auth'])('refuses token_endpoint_auth_method %s with 400 before calling Cognito', async (method) => {
    const before = await env.backdoor.countClients();
    const mark = env.proxy.targets.length;
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'], token_endpoint_auth_method: method }) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: `token_endpoint_auth_method "${method}" is not one Cognito app clients support (client_secret_basic, client_secret_post).` });
    expect(callsSince(mark)).toEqual([]);
    await adapter.drained?.();
    expect(await env.backdoor.countClients()).toBe(before);
  });

  it('creates clients for client_secret_basic as for client_secret_post', async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'], token_endpoint_auth_method: 'client_secret_basic' }) });
    expect(res.status).toBe(201);
    expect(await env.backdoor.canGetToken(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it("passes on Cognito's callback URL rules as invalid_redirect_uri", async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'], redirect_uris: ['http://app.example.com/cb'] }) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_redirect_uri');
    expect(res.body.error_description).toContain('InvalidParameterException');
  });
});

describe('rotation and updates', () => {
  it('rotates when the client already has two secrets: only the new one is left and works', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    const second = await env.sdk.send(new AddUserPoolClientSecretCommand({ UserPoolId: env.userPoolId, ClientId: created.body.client_id }));
    const mark = env.proxy.targets.length;
    const rotated = await bridge.call('POST', `/${created.body.client_id}/new-secret`);
    expect(rotated.status).toBe(200);
    expect(callsSince(mark)).toEqual(['DescribeUserPoolClient', 'ListUserPoolClientSecrets', 'DeleteUserPoolClientSecret', 'AddUserPoolClientSecret', 'ListUserPoolClientSecrets', 'DeleteUserPoolClientSecret']);
    expect(env.proxy.secrets.get(created.body.client_id)?.map((secret) => secret.value)).toEqual([rotated.body.client_secret]);
    for (const old of [created.body.client_secret, second.ClientSecretDescriptor?.ClientSecretValue as string]) expect(await env.backdoor.canGetToken(created.body.client_id, old)).toBe(false);
    expect(await env.backdoor.canGetToken(created.body.client_id, rotated.body.client_secret)).toBe(true);
  });

  it('update_application sends the whole configuration back, so Cognito resets nothing', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read', 'orders/write'] }) });
    const before = await describeClient(created.body.client_id);
    const res = await bridge.call('POST', `/${created.body.client_id}/event-hook`, { body: konnectEvent(created.body.client_id, { event_type: 'update_application', redirect_uris: ['https://new.example.com/cb'] }) });
    expect(res.status).toBe(200);
    const after = await describeClient(created.body.client_id);
    expect(after).toMatchObject({ CallbackURLs: ['https://new.example.com/cb'], AllowedOAuthFlows: before?.AllowedOAuthFlows, AllowedOAuthScopes: before?.AllowedOAuthScopes, ExplicitAuthFlows: before?.ExplicitAuthFlows, ClientName: before?.ClientName });
  });
});

describe('lifecycle', () => {
  it('deletes a client whose create Konnect never got the answer of', async () => {
    const mark = env.proxy.targets.length;
    const created = await adapter.createClient(parseRegistration(konnectApplication({ scopes: ['orders/read'] })), operation(Promise.resolve(false)));
    await adapter.drained?.();
    expect(callsSince(mark)).toEqual(['CreateUserPoolClient', 'DescribeUserPoolClient', 'DeleteUserPoolClient']);
    expect(await env.backdoor.clientExists(created.clientId)).toBe(false);
  });

  it('a create whose answer was lost is found by its name and deleted', async () => {
    const before = await env.backdoor.countClients();
    env.proxy.loseAnswerOfNext('CreateUserPoolClient');
    const mark = env.proxy.targets.length;
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    expect(res.status).toBe(502);
    await adapter.drained?.();
    expect(callsSince(mark)).toEqual(['CreateUserPoolClient', 'ListUserPoolClients', 'DescribeUserPoolClient', 'DeleteUserPoolClient']);
    expect(await env.backdoor.countClients()).toBe(before);
  });

  it('recovery finds the client of a create a crashed process left open by its name, across pages, and deletes it', async () => {
    // Other clients in the pool, so that the search has pages to go through.
    await env.backdoor.createForeignClient();
    await env.backdoor.createForeignClient();
    const journal = createJsonStore(createMemoryDriver());
    const crashed = adapterFor({ journal });
    // Konnect's answer never settles: the journal entry stays open, as a crash leaves it.
    const created = await crashed.createClient(parseRegistration(konnectApplication({ client_name: 'Crashed create', scopes: ['orders/read'] })), { ...operation(new Promise(() => {})), deadline: AbortSignal.timeout(0) });
    expect(await env.backdoor.clientExists(created.clientId)).toBe(true);
    const mark = env.proxy.targets.length;
    env.proxy.pageSize = 2;
    try {
      expect(await adapterFor({ journal }).recover?.({ inFlightMs: 0 })).toEqual({ open: 1, undone: 1, neverCreated: 0, unresolved: 0, kept: 0 });
    } finally {
      env.proxy.pageSize = 60;
    }
    expect(callsSince(mark).filter((target) => target === 'ListUserPoolClients').length).toBeGreaterThan(1);
    expect(await env.backdoor.clientExists(created.clientId)).toBe(false);
    expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
  });

  it('recovery closes an entry whose create never reached Cognito', async () => {
    const journal = createJsonStore(createMemoryDriver());
    await journal.set(`${JOURNAL_PREFIX}abcd1234`, { nonce: 'abcd1234', clientName: 'Never made', startedAt: new Date().toISOString() });
    expect(await adapterFor({ journal }).recover?.({ inFlightMs: 0 })).toEqual({ open: 1, undone: 0, neverCreated: 1, unresolved: 0, kept: 0 });
    expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
  });

  it('costs Cognito 1 call per create, 5 per rotation, 2 per update_application and 2 per delete', async () => {
    let mark = env.proxy.targets.length;
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    await adapter.drained?.();
    expect(callsSince(mark)).toEqual(['CreateUserPoolClient']);
    const clientId = created.body.client_id as string;
    mark = env.proxy.targets.length;
    expect((await bridge.call('POST', `/${clientId}/new-secret`)).status).toBe(200);
    expect(callsSince(mark)).toEqual(['DescribeUserPoolClient', 'ListUserPoolClientSecrets', 'AddUserPoolClientSecret', 'ListUserPoolClientSecrets', 'DeleteUserPoolClientSecret']);
    mark = env.proxy.targets.length;
    expect((await bridge.call('POST', `/${clientId}/event-hook`, { body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://new.example.com/cb'] }) })).status).toBe(200);
    expect(callsSince(mark)).toEqual(['DescribeUserPoolClient', 'UpdateUserPoolClient']);
    mark = env.proxy.targets.length;
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(callsSince(mark)).toEqual(['DescribeUserPoolClient', 'DeleteUserPoolClient']);
  });
});

describe('throttling', () => {
  it('retries a throttled safe call and answers 503 with Retry-After for a throttled create', async () => {
    env.proxy.throttleNext('DescribeUserPoolClient');
    expect((await bridge.call('DELETE', '/nonexistentclient0000000000')).status).toBe(204);
    env.proxy.throttleNext('CreateUserPoolClient');
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });
});

describe('settings', () => {
  it('reads the user pool, region and policies', () => {
    expect(readAdapterOptions(dcrBridgeAdapter, { COGNITO_USER_POOL_ID: 'eu-west-1_AbC123', AWS_REGION: 'eu-west-1', COGNITO_MIXED_FLOWS: 'client_credentials_only', COGNITO_DEFAULT_SCOPES: 'orders/read' })).toEqual({
      userPoolId: 'eu-west-1_AbC123',
      region: 'eu-west-1',
      endpoint: undefined,
      namePrefix: 'konnect-',
      mixedFlows: 'client_credentials_only',
      defaultScopes: ['orders/read'],
    });
  });

  it('lists every problem at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, { COGNITO_USER_POOL_ID: 'nope', COGNITO_MIXED_FLOWS: 'both' })).toThrow(
      'Invalid cognito settings:\n- Set AWS_REGION (or COGNITO_REGION) to the user pool\'s region.\n- COGNITO_USER_POOL_ID must look like us-east-1_AbCdEf123 (got "nope").\n- COGNITO_MIXED_FLOWS must be one of reject, client_credentials_only, browser_flows_only (got "both").',
    );
  });
});
