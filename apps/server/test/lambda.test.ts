import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { konnectApplication, konnectEvent, konnectVerifyApplication } from '@dcr-bridge/conformance';
import { loadConfig } from '../src/config.js';
import { createLambdaHandler, handler as exportedHandler, type LambdaHttpHandler } from '../src/lambda.js';
import { createProcessLogger } from '../src/logger.js';
import { answerOf, lambdaEvent, type Answer, type KonnectCall, type LambdaRoute } from './fixtures/lambda/events.js';
import { startTestPostgres } from '../../../packages/store-postgres/test/postgres-server.js';
import { idpTargets, type IdpTarget } from './idp-targets.js';

/**
 * The Lambda entry point invoked in-process with the events API Gateway and function URLs send, against the
 * okta adapter's fake Okta org (the adapter's own test IdP): Konnect's whole flow, with real token requests.
 */
const apiKey = 'lambda_api_key_0123456789';
let okta: IdpTarget;
const directory = mkdtempSync(join(tmpdir(), 'dcr-lambda-'));
let journals = 0;

interface Invoker {
  handler: LambdaHttpHandler;
  lines: Array<Record<string, unknown>>;
  raw: string[];
  journal: string;
}

function lambda(env: Record<string, string>): Invoker {
  const raw: string[] = [];
  const journal = join(directory, `journal-${++journals}`);
  const logger = createProcessLogger({ level: 'info', destination: { write: (line: string) => void raw.push(line) } });
  const handler = createLambdaHandler({ AWS_LAMBDA_FUNCTION_NAME: 'dcr-bridge', DCR_BRIDGE_JOURNAL: journal, ...env }, { logger });
  return {
    handler,
    raw,
    journal,
    get lines() {
      return raw.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

const oktaLambda = (env: Record<string, string> = {}) => lambda({ ...okta.env, DCR_BRIDGE_API_KEYS: apiKey, ...env });

async function invoke(
  invoker: Invoker,
  route: LambdaRoute,
  call: Omit<KonnectCall, 'apiKey'> & { apiKey?: string | null },
): Promise<Answer> {
  return answerOf(await invoker.handler(lambdaEvent(route, { apiKey, ...call })));
}

beforeAll(async () => {
  okta = await idpTargets.okta();
});
afterAll(async () => {
  await okta.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Each way Konnect's dcr_base_url can reach the function, with the DCR_BRIDGE_BASE_PATH the operator sets. */
const routes: Array<{ name: string; route: LambdaRoute; basePath: string }> = [
  {
    name: 'REST API, stage prod, base path without the stage',
    route: { kind: 'rest', stage: 'prod', apiBase: '/v1/dcr' },
    basePath: '/v1/dcr',
  },
  {
    name: 'REST API, stage prod, base path as in dcr_base_url (stage included)',
    route: { kind: 'rest', stage: 'prod', apiBase: '/v1/dcr' },
    basePath: '/prod/v1/dcr',
  },
  { name: 'REST API, stage prod, {proxy+} at the root', route: { kind: 'rest', stage: 'prod', apiBase: '/' }, basePath: '/' },
  { name: 'HTTP API, $default stage', route: { kind: 'http', stage: '$default', apiBase: '/' }, basePath: '/' },
  {
    name: 'HTTP API, stage prod in rawPath, base path without the stage',
    route: { kind: 'http', stage: 'prod', apiBase: '/v1/dcr' },
    basePath: '/v1/dcr',
  },
  {
    name: 'HTTP API, stage prod in rawPath, base path with the stage',
    route: { kind: 'http', stage: 'prod', apiBase: '/v1/dcr' },
    basePath: '/prod/v1/dcr',
  },
  {
    name: 'HTTP API on a custom domain (no stage in rawPath)',
    route: { kind: 'http', stage: 'prod', customDomain: 'dcr.example.com', apiBase: '/v1/dcr' },
    basePath: '/v1/dcr',
  },
  { name: 'function URL', route: { kind: 'url', apiBase: '/' }, basePath: '/' },
  { name: 'function URL, base path', route: { kind: 'url', apiBase: '/v1/dcr' }, basePath: '/v1/dcr' },
];

describe('the Konnect flow through the Lambda handler', () => {
  const byBasePath = new Map<string, Invoker>();
  const invokerFor = (basePath: string) => {
    if (!byBasePath.has(basePath)) byBasePath.set(basePath, oktaLambda({ DCR_BRIDGE_BASE_PATH: basePath }));
    return byBasePath.get(basePath) as Invoker;
  };

  it.each(routes)('$name: verify, create, token, rotate, update, delete', async ({ route, basePath }) => {
    const bridge = invokerFor(basePath);
    const call = (request: Omit<KonnectCall, 'apiKey'>) => invoke(bridge, route, request);

    const verified = await call({ method: 'POST', suffix: '/', body: konnectVerifyApplication() });
    expect(verified.status).toBe(201);
    expect((await call({ method: 'DELETE', suffix: `/${verified.body?.client_id as string}` })).status).toBe(204);

    const created = await call({ method: 'POST', suffix: '/', body: konnectApplication() });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toMatch(/^application\/json/);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.isBase64Encoded).toBe(false);
    const clientId = created.body?.client_id as string;
    const firstSecret = created.body?.client_secret as string;
    expect(await okta.canGetToken(clientId, firstSecret)).toBe(true);

    const rotated = await call({ method: 'POST', suffix: `/${clientId}/new-secret` });
    expect(rotated.status).toBe(200);
    expect(rotated.body?.client_id).toBe(clientId);
    const secondSecret = rotated.body?.client_secret as string;
    expect(await okta.canGetToken(clientId, firstSecret)).toBe(false);
    expect(await okta.canGetToken(clientId, secondSecret)).toBe(true);

    const updated = await call({
      method: 'POST',
      suffix: `/${clientId}/event-hook`,
      body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/new'] }),
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({});
    expect(await okta.canGetToken(clientId, secondSecret)).toBe(true);

    expect((await call({ method: 'DELETE', suffix: `/${clientId}` })).status).toBe(204);
    expect(await okta.clientExists(clientId)).toBe(false);
    expect(await okta.canGetToken(clientId, secondSecret)).toBe(false);
    expect((await call({ method: 'DELETE', suffix: `/${clientId}` })).status).toBe(204);
  });

  it('answers 404 JSON for a path outside the base path, and creates nothing', async () => {
    const before = await okta.countClients();
    const missed = await invoke(
      invokerFor('/v1/dcr'),
      { kind: 'http', stage: '$default', apiBase: '/v2/dcr' },
      { method: 'POST', suffix: '/', body: konnectApplication() },
    );
    expect(missed.status).toBe(404);
    expect(missed.body?.error).toBe('not_found');
    expect(await okta.countClients()).toBe(before);
  });
});

describe('rfc7591 on AWS Lambda with the PostgreSQL store', () => {
  let rfc7591: IdpTarget;
  let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
  beforeAll(async () => {
    [rfc7591, postgres] = await Promise.all([idpTargets.rfc7591(), startTestPostgres()]);
  }, 60_000);
  afterAll(async () => {
    await rfc7591?.close();
    await postgres?.stop();
  });

  it('two instances share the records: created through one, rotated, updated and deleted through the other', async () => {
    const env = { ...rfc7591.env, DCR_BRIDGE_API_KEYS: apiKey, DCR_BRIDGE_STORE: postgres.url };
    const [first, second] = [lambda(env), lambda(env)];
    const route: LambdaRoute = { kind: 'http', stage: '$default', apiBase: '/' };
    const created = await invoke(first, route, { method: 'POST', suffix: '/', body: konnectApplication() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const clientId = created.body?.client_id as string;
    expect(await rfc7591.canGetToken(clientId, created.body?.client_secret as string)).toBe(true);
    const rotated = await invoke(second, route, { method: 'POST', suffix: `/${clientId}/new-secret` });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(await rfc7591.canGetToken(clientId, rotated.body?.client_secret as string)).toBe(true);
    expect(await rfc7591.canGetToken(clientId, created.body?.client_secret as string)).toBe(false);
    const updated = await invoke(first, route, {
      method: 'POST',
      suffix: `/${clientId}/event-hook`,
      body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/lambda'] }),
    });
    expect(updated.status).toBe(200);
    expect((await invoke(second, route, { method: 'DELETE', suffix: `/${clientId}` })).status).toBe(204);
    expect(await rfc7591.clientExists(clientId)).toBe(false);
    // The journal is in the database: neither instance wrote a journal file under /tmp.
    expect(existsSync(first.journal) || existsSync(second.journal)).toBe(false);
  });
});

describe('requests as API Gateway and function URLs carry them', () => {
  let bridge: Invoker;
  beforeAll(() => {
    bridge = oktaLambda();
  });

  it.each([{ kind: 'rest' as const, stage: 'prod' }, { kind: 'http' as const, stage: '$default' }, { kind: 'url' as const }])(
    'decodes a base64 body ($kind)',
    async (route) => {
      const created = await invoke(
        bridge,
        { ...route, apiBase: '/' },
        { method: 'POST', suffix: '/', body: konnectApplication(), base64: true },
      );
      expect(created.status).toBe(201);
      const clientId = created.body?.client_id as string;
      const updated = await invoke(
        bridge,
        { ...route, apiBase: '/' },
        {
          method: 'POST',
          suffix: `/${clientId}/event-hook`,
          body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/b64'] }),
          base64: true,
        },
      );
      expect(updated.status).toBe(200);
      expect((await invoke(bridge, { ...route, apiBase: '/' }, { method: 'DELETE', suffix: `/${clientId}` })).status).toBe(204);
    },
  );

  it.each([{ kind: 'rest' as const }, { kind: 'http' as const }, { kind: 'url' as const }])(
    'refuses a wrong or missing API key with 401 JSON and creates nothing ($kind)',
    async ({ kind }) => {
      const before = await okta.countClients();
      for (const key of ['wrong_key_0123456789', null]) {
        const refused = await invoke(
          bridge,
          { kind, apiBase: '/' },
          { method: 'POST', suffix: '/', body: konnectApplication(), apiKey: key },
        );
        expect(refused.status).toBe(401);
        expect(refused.headers['content-type']).toMatch(/^application\/json/);
        expect(refused.body?.error).toBe('unauthorized');
        expect(typeof refused.body?.error_description).toBe('string');
      }
      expect(await okta.countClients()).toBe(before);
    },
  );

  it('reads the API key whatever the case of the header name', async () => {
    // REST APIs pass headers as the client spelled them; HTTP APIs and function URLs lower-case them.
    const event = lambdaEvent({ kind: 'rest', apiBase: '/' }, { method: 'DELETE', suffix: '/0oa_never_created_0000', apiKey: null });
    const spellings = ['x-api-key', 'X-Api-Key', 'X-API-KEY'];
    for (const name of spellings) {
      const headers = { ...event.headers, [name]: apiKey };
      const multiValueHeaders = { ...(event as { multiValueHeaders: Record<string, string[]> }).multiValueHeaders, [name]: [apiKey] };
      expect(answerOf(await bridge.handler({ ...event, headers, multiValueHeaders } as typeof event)).status).toBe(204);
    }
  });

  it.each([{ kind: 'rest' as const }, { kind: 'url' as const }])(
    'answers bad JSON with 400 JSON and creates nothing ($kind)',
    async ({ kind }) => {
      const before = await okta.countClients();
      for (const base64 of [false, true]) {
        const refused = await invoke(
          bridge,
          { kind, apiBase: '/' },
          { method: 'POST', suffix: '/', rawBody: '{"client_name": "half', base64 },
        );
        expect(refused.status).toBe(400);
        expect(refused.headers['content-type']).toMatch(/^application\/json/);
        expect(refused.body).toEqual({
          error: 'invalid_request',
          error_description: `The request body is not valid JSON. Request id: ${refused.headers['x-request-id']}.`,
        });
      }
      expect(await okta.countClients()).toBe(before);
    },
  );

  it('writes the access and audit lines, and removes each create from the journal once its answer left', async () => {
    const own = oktaLambda();
    const created = await invoke(own, { kind: 'url', apiBase: '/' }, { method: 'POST', suffix: '/', body: konnectApplication() });
    expect(created.status).toBe(201);
    expect(own.lines.some((line) => line.msg === 'request' && line.status === 201 && line.method === 'POST')).toBe(true);
    expect(
      own.lines.some(
        (line) =>
          line.msg === 'audit' &&
          line.operation === 'createClient' &&
          line.outcome === 'success' &&
          line.clientId === created.body?.client_id,
      ),
    ).toBe(true);
    // The journal entry of a create is removed once core saw the answer leave: no entry stays open.
    await vi.waitFor(() => expect(openJournalEntries(own.journal)).toEqual([]));
    expect(readFileSync(own.journal, 'utf8')).not.toBe('');
    expect(own.raw.join('\n')).not.toContain(created.body?.client_secret as string);
    expect(own.raw.join('\n')).not.toContain(apiKey);
  });

  it('builds the bridge while the module loads when told to (on Lambda: the init phase), before any invocation', async () => {
    const raw: string[] = [];
    const logger = createProcessLogger({ level: 'info', destination: { write: (line: string) => void raw.push(line) } });
    createLambdaHandler(
      { ...okta.env, DCR_BRIDGE_API_KEYS: apiKey, DCR_BRIDGE_JOURNAL: join(directory, 'journal-eager') },
      { logger, startNow: true },
    );
    await vi.waitFor(() => expect(raw.some((line) => line.includes('"msg":"cold start done"'))).toBe(true));
  });

  it('builds the bridge once per cold start and reuses it across warm invocations', async () => {
    const own = oktaLambda();
    for (let i = 0; i < 3; i++)
      expect((await invoke(own, { kind: 'url', apiBase: '/' }, { method: 'DELETE', suffix: `/0oa_gone_${i}` })).status).toBe(204);
    expect(own.lines.filter((line) => line.msg === 'cold start done')).toHaveLength(1);
    expect(own.lines.find((line) => line.msg === 'cold start done')).toMatchObject({ adapter: 'okta', journal: own.journal });
  });

  it("takes Kong's example bridge's settings: OKTA_DOMAIN, OKTA_API_TOKEN, KONG_API_TOKENS", async () => {
    const kong = lambda({
      OKTA_DOMAIN: okta.env.OKTA_DOMAIN as string,
      OKTA_ALLOW_INSECURE_HTTP: 'true',
      OKTA_API_TOKEN: okta.env.OKTA_API_TOKEN as string,
      KONG_API_TOKENS: `old_kong_key_0123456789,${apiKey}`,
    });
    const created = await invoke(
      kong,
      { kind: 'rest', apiBase: '/' },
      { method: 'POST', suffix: '/', body: konnectApplication(), apiKey: 'old_kong_key_0123456789' },
    );
    expect(created.status).toBe(201);
    expect(await okta.canGetToken(created.body?.client_id as string, created.body?.client_secret as string)).toBe(true);
    expect(
      (await invoke(kong, { kind: 'rest', apiBase: '/' }, { method: 'DELETE', suffix: `/${created.body?.client_id as string}` })).status,
    ).toBe(204);
  });

  it('warns once when the function timeout leaves less than the bridge needs to answer', async () => {
    const own = oktaLambda();
    const context = { getRemainingTimeInMillis: () => 3_000 };
    for (let i = 0; i < 2; i++)
      await own.handler(lambdaEvent({ kind: 'url', apiBase: '/' }, { method: 'DELETE', suffix: '/0oa_gone', apiKey }), context);
    const warnings = own.lines.filter((line) => line.level === 'warn' && String(line.msg).startsWith('the function timeout is shorter'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      remainingMs: 3_000,
      operationTimeoutMs: 9_000,
      advice: 'set the function timeout to at least 10 s, or lower DCR_BRIDGE_OPERATION_TIMEOUT_MS',
    });
  });

  it('answers 500 JSON, and logs it, when serverless-express cannot carry a request', async () => {
    const own = oktaLambda();
    const event = lambdaEvent({ kind: 'url', apiBase: '/' }, { method: 'DELETE', suffix: '/0oa_gone', apiKey });
    // A 2.0 event without its headers map: the library fails to read it.
    const failed = answerOf(await own.handler({ ...event, headers: undefined } as unknown as typeof event));
    expect(failed.status).toBe(500);
    expect(failed.headers['content-type']).toBe('application/json');
    expect(failed.body).toEqual({
      error: 'internal_error',
      error_description: 'The bridge failed unexpectedly. Its logs have the details.',
    });
    expect(own.lines.some((line) => line.level === 'error' && line.msg === 'serverless-express failed to carry a request')).toBe(true);
  });

  it('refuses an event that is not an HTTP request', async () => {
    await expect(bridge.handler({ Records: [{ eventSource: 'aws:sqs' }] } as never)).rejects.toThrow(
      'dcr-bridge’s Lambda handler serves HTTP requests',
    );
  });
});

describe('a misconfigured function', () => {
  const misconfigured = async (env: Record<string, string>) => {
    const bridge = lambda(env);
    const answers: Answer[] = [];
    for (const route of [
      { kind: 'rest' as const, apiBase: '/' },
      { kind: 'url' as const, apiBase: '/' },
    ]) {
      answers.push(await invoke(bridge, route, { method: 'POST', suffix: '/', body: konnectApplication() }));
    }
    for (const answer of answers) {
      expect(answer.status).toBe(500);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.body?.error).toBe('internal_error');
      expect(answer.body?.error_description).toMatch(
        /^The bridge is misconfigured and could not start\. Its logs .* say which settings to fix\.$/,
      );
    }
    const errors = bridge.lines.filter((line) => line.level === 'error');
    // Tried again at each invocation, and said again.
    expect(errors).toHaveLength(2);
    return { errors, raw: bridge.raw.join('\n') };
  };

  it('refuses dev mode: no adapter chosen', async () => {
    const { errors, raw } = await misconfigured({ DCR_BRIDGE_API_KEYS: apiKey });
    expect(errors[0]?.problems).toEqual([
      expect.stringContaining(
        'DCR_BRIDGE_ADAPTER is not set: without it the bridge would start its dev mode, which needs a listening port',
      ),
    ]);
    expect(raw).not.toContain(apiKey);
  });

  it('lists every setting problem at once, without repeating a secret', async () => {
    const { errors, raw } = await misconfigured({
      DCR_BRIDGE_ADAPTER: 'okta',
      OKTA_DOMAIN: okta.env.OKTA_DOMAIN as string,
      OKTA_ALLOW_INSECURE_HTTP: 'true',
      OKTA_API_TOKEN: 'okta_token_that_must_not_be_logged',
      DCR_BRIDGE_API_KEYS: 'short!',
      DCR_BRIDGE_OPERATION_TIMEOUT_MS: 'soon',
    });
    const problems = errors[0]?.problems as string[];
    expect(problems.some((problem) => problem.startsWith('DCR_BRIDGE_API_KEYS: key #1'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('DCR_BRIDGE_OPERATION_TIMEOUT_MS'))).toBe(true);
    expect(raw).not.toContain('okta_token_that_must_not_be_logged');
    expect(raw).not.toContain('short!');
  });

  it('refuses a metrics port: a function listens on none', async () => {
    const { errors } = await misconfigured({ ...okta.env, DCR_BRIDGE_API_KEYS: apiKey, DCR_BRIDGE_METRICS_PORT: '9464' });
    expect(errors[0]?.problems).toEqual([
      expect.stringContaining('DCR_BRIDGE_METRICS_PORT is set, but a Lambda function listens on no port'),
    ]);
  });

  it('refuses a store file for an adapter that keeps per-client state (rfc7591), naming PostgreSQL', async () => {
    const storeKey = Buffer.alloc(32, 7).toString('base64');
    const { errors, raw } = await misconfigured({
      DCR_BRIDGE_ADAPTER: 'rfc7591',
      RFC7591_ISSUER: 'https://idp.example.com',
      DCR_BRIDGE_STORE_KEY: storeKey,
      DCR_BRIDGE_API_KEYS: apiKey,
    });
    expect(errors[0]?.msg).toBe('dcr-bridge cannot start on AWS Lambda (every invocation is answered 500 until it can)');
    expect(JSON.stringify(errors[0]?.error)).toContain(
      'Run this adapter on AWS Lambda with a PostgreSQL store (DCR_BRIDGE_STORE=postgres://…)',
    );
    expect(raw).not.toContain(storeKey);
  });
});

describe('configuration on AWS Lambda', () => {
  it('puts the journal under /tmp and turns /metrics off, unless told otherwise', async () => {
    const env = { ...okta.env, DCR_BRIDGE_API_KEYS: apiKey };
    const onLambda = await loadConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: 'dcr-bridge' });
    expect(onLambda.config?.journalPath).toBe('/tmp/dcr-bridge.journal');
    expect(onLambda.config?.metrics).toEqual({ where: 'off' });
    const told = await loadConfig({
      ...env,
      AWS_LAMBDA_FUNCTION_NAME: 'dcr-bridge',
      DCR_BRIDGE_JOURNAL: '/mnt/efs/journal',
      DCR_BRIDGE_METRICS: 'on',
    });
    expect(told.config?.journalPath).toBe('/mnt/efs/journal');
    expect(told.config?.metrics).toEqual({ where: 'main' });
    const elsewhere = await loadConfig(env, '/srv/bridge');
    expect(elsewhere.config?.journalPath).toBe('/srv/bridge/dcr-bridge.journal');
    expect(elsewhere.config?.metrics).toEqual({ where: 'main' });
  });

  it('the exported handler reads process.env at its first invocation', async () => {
    const env = {
      ...okta.env,
      DCR_BRIDGE_API_KEYS: apiKey,
      DCR_BRIDGE_JOURNAL: join(directory, 'journal-exported'),
      DCR_BRIDGE_LOG_LEVEL: 'error',
    };
    const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
    Object.assign(process.env, env);
    try {
      const answer = answerOf(
        await exportedHandler(lambdaEvent({ kind: 'url', apiBase: '/' }, { method: 'DELETE', suffix: '/0oa_gone', apiKey })),
      );
      expect(answer.status).toBe(204);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

/** The journal's open entries: each set not followed by a delete of its key (journal-file.ts's format). */
function openJournalEntries(file: string): string[] {
  const open = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const record = JSON.parse(line) as { k: string; v?: string; d?: 1 };
    if (record.d === 1) open.delete(record.k);
    else open.add(record.k);
  }
  return [...open];
}
