import {
  AddUserPoolClientSecretCommand,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DescribeUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { JOURNAL_PREFIX, createJsonStore, createMemoryDriver, readAdapterOptions, type DcrAdapter } from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import {
  type BridgeHarness,
  createCapturingLogger,
  konnectApplication,
  konnectEvent,
  operationContext,
  startBridge,
} from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientName } from '../src/mapping.js';
import { createCognitoAdapter, dcrBridgeAdapter, type CognitoAdapterOptions } from '../src/index.js';
import { startCognitoEnvironment, type CognitoEnvironment } from './environment.js';
import { cognitoApiDescription } from './cognito-proxy.js';

let env: CognitoEnvironment;
let adapter: DcrAdapter;
let bridge: BridgeHarness;
const bridges: BridgeHarness[] = [];
const adapters: DcrAdapter[] = [];
const adapterFor = (overrides: Partial<CognitoAdapterOptions> = {}) => {
  const created = createCognitoAdapter({
    userPoolId: env.userPoolId,
    region: 'eu-west-1',
    endpoint: env.proxy.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...overrides,
  });
  adapters.push(created);
  return created;
};
/** A bridge on its own adapter, as another process (or this one after a restart) would run it. */
const bridgeFor = async (overrides: Partial<CognitoAdapterOptions> = {}) => {
  const started = await startBridge(adapterFor(overrides));
  bridges.push(started);
  return started;
};
const describeClient = async (clientId: string) =>
  (await env.sdk.send(new DescribeUserPoolClientCommand({ UserPoolId: env.userPoolId, ClientId: clientId }))).UserPoolClient;
/** A context as core's HTTP layer builds it; `answered` says whether Konnect got the answer. */
const operation = (answered: Promise<boolean>) => operationContext({ answered });
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
  for (const created of adapters) await created.close?.();
  await env.stop();
  // Every call the adapter (and the tests) made and every answer the proxy gave, against AWS's model.
  env.proxy.api.expectNoProblems();
});

describe('create', () => {
  it('creates an OAuth app client with a secret, Cognito-safe name, scopes and callback URLs', async () => {
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({ client_name: 'Orders <App> #1 ✓', scopes: ['orders/read', 'orders/write'] }),
    });
    expect(res.status).toBe(201);
    const client = await describeClient(res.body.client_id);
    expect(client?.ClientName).toMatch(/^konnect-Orders-App-1-[a-z0-9]{8}$/);
    expect(client).toMatchObject({
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: ['orders/read', 'orders/write'],
      CallbackURLs: ['https://app.example.com/callback'],
    });
    expect(await env.backdoor.canGetToken(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it('refuses client_credentials with a browser flow by default, and says why', async () => {
    const before = await env.backdoor.countClients();
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({ grant_types: ['client_credentials', 'authorization_code'], scopes: ['orders/read'] }),
    });
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
    const res = await local.call('POST', '/', {
      body: konnectApplication({
        grant_types: ['bearer', 'authorization_code'],
        scopes: policy === 'browser_flows_only' ? ['openid'] : ['orders/read'],
      }),
    });
    expect(res.status).toBe(201);
    expect((await describeClient(res.body.client_id))?.AllowedOAuthFlows).toEqual(kept);
    expect(logger.lines.find((line) => line.level === 'warn')).toMatchObject({ dropped });
  });

  it('names an unknown scope, refuses scopeless OAuth clients unless defaults are set', async () => {
    const unknown = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/delete'] }) });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'invalid_scope', error_description: expect.stringContaining('orders/delete') });
    const none = await bridge.call('POST', '/', { body: konnectApplication({ scopes: [] }) });
    expect(none.body.error_description).toContain("the adapter's defaultScopes");
    const withDefaults = await bridgeFor({ defaultScopes: ['orders/read'] });
    const created = await withDefaults.call('POST', '/', { body: konnectApplication({ scopes: [] }) });
    expect((await describeClient(created.body.client_id))?.AllowedOAuthScopes).toEqual(['orders/read']);
  });

  it.each(['none', 'private_key_jwt', 'client_secret_jwt', 'tls_client_auth'])(
    'refuses token_endpoint_auth_method %s with 400 before calling Cognito',
    async (method) => {
      const before = await env.backdoor.countClients();
      const mark = env.proxy.targets.length;
      const res = await bridge.call('POST', '/', {
        body: konnectApplication({ scopes: ['orders/read'], token_endpoint_auth_method: method }),
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_client_metadata',
        error_description: `token_endpoint_auth_method "${method}" is not one Cognito app clients support (client_secret_basic, client_secret_post). Request id: ${res.headers.get('x-request-id')}.`,
      });
      expect(callsSince(mark)).toEqual([]);
      await adapter.drained?.();
      expect(await env.backdoor.countClients()).toBe(before);
    },
  );

  it('creates clients for client_secret_basic as for client_secret_post', async () => {
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({ scopes: ['orders/read'], token_endpoint_auth_method: 'client_secret_basic' }),
    });
    expect(res.status).toBe(201);
    expect(await env.backdoor.canGetToken(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it("passes on Cognito's callback URL rules as invalid_redirect_uri", async () => {
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({ scopes: ['orders/read'], redirect_uris: ['http://app.example.com/cb'] }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_redirect_uri');
    expect(res.body.error_description).toContain('refused the redirect URIs');
    expect(res.body.error_description).not.toContain('InvalidParameterException');
  });
});

describe('rotation and updates', () => {
  /** The values of the secrets the client holds at Cognito (the proxy keeps them). */
  const secretValues = (clientId: string) => env.proxy.secrets.get(clientId)?.map((secret) => secret.value);
  /** Konnect's answer, settled by the test. */
  const konnectAnswer = () => {
    let settle!: (answered: boolean) => void;
    const answered = new Promise<boolean>((resolve) => (settle = resolve));
    return { answered, settle };
  };

  it("keeps Konnect's secret working beside the new one until Konnect took the answer, then deletes it", async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    const clientId = created.body.client_id as string;
    const answer = konnectAnswer();
    const mark = env.proxy.targets.length;
    const rotated = await adapter.rotateSecret?.(clientId, operation(answer.answered));
    const fresh = rotated?.clientSecret as string;
    expect(callsSince(mark)).toEqual(['ListUserPoolClientSecrets', 'AddUserPoolClientSecret']);
    // Konnect does not have the new secret yet: both work.
    expect(secretValues(clientId)).toEqual([created.body.client_secret, fresh]);
    expect(await env.backdoor.canGetToken(clientId, created.body.client_secret)).toBe(true);
    expect(await env.backdoor.canGetToken(clientId, fresh)).toBe(true);
    answer.settle(true);
    await adapter.drained?.();
    expect(callsSince(mark)).toEqual(['ListUserPoolClientSecrets', 'AddUserPoolClientSecret', 'DeleteUserPoolClientSecret']);
    expect(secretValues(clientId)).toEqual([fresh]);
    expect(await env.backdoor.canGetToken(clientId, created.body.client_secret)).toBe(false);
    expect(await env.backdoor.canGetToken(clientId, fresh)).toBe(true);
  });

  it("a rotation Konnect did not get: the new secret is deleted and Konnect's keeps working", async () => {
    const logger = createCapturingLogger();
    const local = adapterFor({ logger });
    const created = await local.createClient(
      parseRegistration(konnectApplication({ scopes: ['orders/read'] })),
      operation(Promise.resolve(true)),
    );
    const clientId = created.clientId;
    const lost = await local.rotateSecret?.(clientId, operation(Promise.resolve(false)));
    await local.drained?.();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        clientId,
        msg: 'Konnect did not get the new secret: it is retired, and the secret Konnect holds keeps working',
      }),
    );
    expect(secretValues(clientId)).toEqual([created.clientSecret]);
    expect(await env.backdoor.canGetToken(clientId, lost?.clientSecret as string)).toBe(false);
    expect(await env.backdoor.canGetToken(clientId, created.clientSecret)).toBe(true);
  });

  it('an AddUserPoolClientSecret carried out whose answer was lost: the added secret is deleted, and Konnect keeps its secret', async () => {
    const patient = adapterFor();
    // Nothing to recover; sets how long a failed IdP call may still land (the completion budget, 30 s by default).
    await patient.recover?.({ inFlightMs: 1_000 });
    const local = await startBridge(patient);
    bridges.push(local);
    const created = await local.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    const clientId = created.body.client_id as string;
    env.proxy.loseAnswerOfNext('AddUserPoolClientSecret');
    const mark = env.proxy.targets.length;
    const res = await local.call('POST', `/${clientId}/new-secret`);
    expect(res.status).toBe(502);
    // Cognito holds a secret Konnect never got: it is found by listing and deleted, at once and again once no add can still land.
    await patient.drained?.();
    expect(secretValues(clientId)).toEqual([created.body.client_secret]);
    const calls = callsSince(mark);
    expect(calls.slice(0, 2)).toEqual(['ListUserPoolClientSecrets', 'AddUserPoolClientSecret']);
    expect(calls.filter((call) => call === 'DeleteUserPoolClientSecret')).toHaveLength(1);
    expect(await env.backdoor.canGetToken(clientId, created.body.client_secret)).toBe(true);
    await local.close();
    await patient.close?.();
  });

  it('with an overlap the old secret works until it ends, and a process started meanwhile deletes it then', async () => {
    const journal = createJsonStore(createMemoryDriver());
    const first = await bridgeFor({ journal, rotationOverlapMs: 4_000 });
    const created = await first.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    const clientId = created.body.client_id as string;
    const rotatedAt = Date.now();
    const rotated = await first.call('POST', `/${clientId}/new-secret`);
    expect(rotated.status).toBe(200);
    await adapters.at(-1)?.drained?.();
    await first.close();
    await adapters.at(-1)?.close?.();
    expect(await env.backdoor.canGetToken(clientId, created.body.client_secret)).toBe(true);
    expect(await env.backdoor.canGetToken(clientId, rotated.body.client_secret)).toBe(true);
    // A restart on the same journal before the overlap ends keeps both, and deletes the old one when it ends.
    const restarted = adapterFor({ journal, rotationOverlapMs: 4_000 });
    const mark = env.proxy.targets.length;
    expect((await restarted.recover?.({ inFlightMs: 0 }))?.rotations).toBe(0);
    expect(secretValues(clientId)).toEqual([created.body.client_secret, rotated.body.client_secret]);
    await vi.waitFor(() => expect(secretValues(clientId)).toEqual([rotated.body.client_secret]), { timeout: 10_000, interval: 50 });
    expect(Date.now()).toBeGreaterThanOrEqual(rotatedAt + 4_000);
    expect(callsSince(mark)).toEqual(['DescribeUserPoolClient', 'ListUserPoolClientSecrets', 'DeleteUserPoolClientSecret']);
    expect(await env.backdoor.canGetToken(clientId, created.body.client_secret)).toBe(false);
    expect(await env.backdoor.canGetToken(clientId, rotated.body.client_secret)).toBe(true);
  });

  it('rotates a client that already has two secrets: one goes before the add, the other once Konnect has the new one', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    const second = await env.sdk.send(new AddUserPoolClientSecretCommand({ UserPoolId: env.userPoolId, ClientId: created.body.client_id }));
    const mark = env.proxy.targets.length;
    const rotated = await bridge.call('POST', `/${created.body.client_id}/new-secret`);
    expect(rotated.status).toBe(200);
    await adapter.drained?.();
    expect(callsSince(mark)).toEqual([
      'ListUserPoolClientSecrets',
      'DeleteUserPoolClientSecret',
      'AddUserPoolClientSecret',
      'DeleteUserPoolClientSecret',
    ]);
    expect(secretValues(created.body.client_id)).toEqual([rotated.body.client_secret]);
    for (const old of [created.body.client_secret, second.ClientSecretDescriptor?.ClientSecretValue as string])
      expect(await env.backdoor.canGetToken(created.body.client_id, old)).toBe(false);
    expect(await env.backdoor.canGetToken(created.body.client_id, rotated.body.client_secret)).toBe(true);
  });

  it("a remembered client deleted behind the bridge's back: rotate and update answer 404, delete 204", async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    const clientId = created.body.client_id as string;
    expect((await bridge.call('POST', `/${clientId}/new-secret`)).status).toBe(200);
    await env.sdk.send(new DeleteUserPoolClientCommand({ UserPoolId: env.userPoolId, ClientId: clientId }));
    const rotated = await bridge.call('POST', `/${clientId}/new-secret`);
    expect(rotated.status).toBe(404);
    expect(rotated.body.error).toBe('not_found');
    const updated = await bridge.call('POST', `/${clientId}/event-hook`, {
      body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://new.example.com/cb'] }),
    });
    expect(updated.status).toBe(404);
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
  });

  it('update_application sends the whole configuration back, so Cognito resets nothing', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read', 'orders/write'] }) });
    const before = await describeClient(created.body.client_id);
    const res = await bridge.call('POST', `/${created.body.client_id}/event-hook`, {
      body: konnectEvent(created.body.client_id, { event_type: 'update_application', redirect_uris: ['https://new.example.com/cb'] }),
    });
    expect(res.status).toBe(200);
    const after = await describeClient(created.body.client_id);
    expect(after).toMatchObject({
      CallbackURLs: ['https://new.example.com/cb'],
      AllowedOAuthFlows: before?.AllowedOAuthFlows,
      AllowedOAuthScopes: before?.AllowedOAuthScopes,
      ExplicitAuthFlows: before?.ExplicitAuthFlows,
      ClientName: before?.ClientName,
    });
  });
});

describe('lifecycle', () => {
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

  it('recovery finds the client of a create that died before its id was journaled by its name, across pages, and deletes it', async () => {
    // Other clients in the pool, so that the search has pages to go through.
    await env.backdoor.createForeignClient();
    await env.backdoor.createForeignClient();
    const journal = createJsonStore(createMemoryDriver());
    const nonce = 'k3j9x2ab';
    await journal.set(`${JOURNAL_PREFIX}${nonce}`, { nonce, clientName: 'Crashed create', startedAt: new Date().toISOString() });
    // Cognito created the client; the process died before it could journal the id.
    const made = await env.sdk.send(
      new CreateUserPoolClientCommand({
        UserPoolId: env.userPoolId,
        ClientName: clientName('Crashed create', nonce, { namePrefix: 'konnect-', mixedFlows: 'reject', defaultScopes: [] }),
        GenerateSecret: true,
      }),
    );
    const clientId = made.UserPoolClient?.ClientId as string;
    const mark = env.proxy.targets.length;
    env.proxy.pageSize = 2;
    try {
      expect(await adapterFor({ journal }).recover?.({ inFlightMs: 0 })).toEqual({
        open: 1,
        undone: 1,
        neverCreated: 0,
        unresolved: 0,
        kept: 0,
        rotations: 0,
      });
    } finally {
      env.proxy.pageSize = 60;
    }
    expect(callsSince(mark).filter((target) => target === 'ListUserPoolClients').length).toBeGreaterThan(1);
    expect(await env.backdoor.clientExists(clientId)).toBe(false);
    expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
  });
});

describe('connections to Cognito', () => {
  it('keeps one connection alive across the calls of a create, two rotations and a delete', async () => {
    const local = await bridgeFor();
    const before = env.proxy.connections;
    const created = await local.call('POST', '/', { body: konnectApplication({ scopes: ['orders/read'] }) });
    for (let round = 0; round < 2; round++) expect((await local.call('POST', `/${created.body.client_id}/new-secret`)).status).toBe(200);
    expect((await local.call('DELETE', `/${created.body.client_id}`)).status).toBe(204);
    expect(env.proxy.connections - before).toBe(1);
  });

  it('gives up on a request Cognito does not answer after timeoutMs, as idp_timeout', async () => {
    const impatient = adapterFor({ timeoutMs: 300 });
    env.proxy.faults.faultNext('POST', /^\/DescribeUserPoolClient$/, 'hang');
    try {
      await expect(impatient.deleteClient('hangingclient000000000000000', operation(Promise.resolve(true)))).rejects.toMatchObject({
        code: 'idp_timeout',
      });
    } finally {
      await env.proxy.faults.settle();
    }
  });
});

describe("AWS's model of the API (test/vendor)", () => {
  it('answers an id Cognito cannot have (ClientIdType: [\\w+]) as no client, without a call: 404 to new-secret, 204 to delete', async () => {
    for (const id of ['x%3Fy%3D1', 'a%2Fb', '..%2F..%2Fusers', 'dcr-bridge']) {
      const mark = env.proxy.targets.length;
      expect((await bridge.call('POST', `/${id}/new-secret`)).status).toBe(404);
      expect((await bridge.call('DELETE', `/${id}`)).status).toBe(204);
      expect(callsSince(mark)).toEqual([]);
    }
  });

  it('reports a misspelt member, a flow Cognito does not have, a missing required member, an operation and an error it does not list', () => {
    const api = cognitoApiDescription();
    const create = { UserPoolId: 'eu-west-1_AbC123', ClientName: 'konnect-orders-k3j9x2ab', GenerateSecret: true };
    expect(api.checkRequest('POST', '/CreateUserPoolClient', { ...create, AllowedOAuthFlows: ['client_credentials'] })).toEqual([]);
    expect(api.checkRequest('POST', '/CreateUserPoolClient', { ...create, CallbackUrls: ['https://app.example.com/cb'] })).toEqual([
      'POST /CreateUserPoolClient: request body: /CallbackUrls is not described',
    ]);
    expect(api.checkRequest('POST', '/CreateUserPoolClient', { ...create, AllowedOAuthFlows: ['authorization_code'] })[0]).toMatch(
      /\/AllowedOAuthFlows\/0 must be equal to one of the allowed values/,
    );
    expect(api.checkRequest('POST', '/DescribeUserPoolClient', { UserPoolId: create.UserPoolId })[0]).toMatch(
      /required property 'ClientId'/,
    );
    expect(api.checkRequest('POST', '/RotateUserPoolClientSecret', {})).toEqual([
      expect.stringContaining('POST /RotateUserPoolClientSecret: no such path'),
    ]);
    expect(api.checkResponse('POST', '/AddUserPoolClientSecret', 400, { __type: 'ScopeDoesNotExistException', message: 'x' })[0]).toMatch(
      /\/__type must be equal to one of the allowed values/,
    );
    expect(() => api.expectNoProblems()).toThrow(/Traffic that Amazon Cognito user pools API 2016-04-18/);
  });
});

describe('settings', () => {
  it('reads the user pool, region and policies', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        COGNITO_USER_POOL_ID: 'eu-west-1_AbC123',
        AWS_REGION: 'eu-west-1',
        COGNITO_MIXED_FLOWS: 'client_credentials_only',
        COGNITO_DEFAULT_SCOPES: 'orders/read',
      }),
    ).toEqual({
      userPoolId: 'eu-west-1_AbC123',
      region: 'eu-west-1',
      endpoint: undefined,
      namePrefix: 'konnect-',
      mixedFlows: 'client_credentials_only',
      defaultScopes: ['orders/read'],
      timeoutMs: 30_000,
    });
  });

  it('takes an http COGNITO_ENDPOINT only with COGNITO_ALLOW_INSECURE_HTTP=true', () => {
    const base = { COGNITO_USER_POOL_ID: 'eu-west-1_AbC123', AWS_REGION: 'eu-west-1', COGNITO_ENDPOINT: 'http://127.0.0.1:9229' };
    expect(() => readAdapterOptions(dcrBridgeAdapter, base)).toThrow(/COGNITO_ENDPOINT[\s\S]*COGNITO_ALLOW_INSECURE_HTTP/);
    expect(readAdapterOptions(dcrBridgeAdapter, { ...base, COGNITO_ALLOW_INSECURE_HTTP: 'true' }).endpoint).toBe('http://127.0.0.1:9229');
    expect(
      readAdapterOptions(dcrBridgeAdapter, { ...base, COGNITO_ENDPOINT: 'https://cognito-idp.eu-west-1.amazonaws.com' }).endpoint,
    ).toBe('https://cognito-idp.eu-west-1.amazonaws.com');
  });

  it('lists every problem at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, { COGNITO_USER_POOL_ID: 'nope', COGNITO_MIXED_FLOWS: 'both' })).toThrow(
      'Invalid cognito settings:\n- COGNITO_USER_POOL_ID must be a user pool id such as us-east-1_AbCdEf123 (got "nope").\n- COGNITO_MIXED_FLOWS must be one of reject, client_credentials_only, browser_flows_only (got "both").\n- Set AWS_REGION (or COGNITO_REGION) to the user pool\'s region.',
    );
  });
});
