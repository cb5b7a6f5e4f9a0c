import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '@dcr-bridge/core';
import { REDACTED, createJsonLogger, isSecretKey } from '@dcr-bridge/core/http';
import { SECRET_FIELDS, SECRET_PATHS, createProcessLogger, redactLine } from '../src/logger.js';
import { runBridgeProcess, type BridgeProcess } from './process.js';

const now = () => new Date('2025-03-04T05:06:07.089Z');

/** A logger of each kind writing into an array, at the same clock. */
function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const core: string[] = [];
  const ours: string[] = [];
  return {
    core: createJsonLogger({ level, now, write: (line) => core.push(line) }),
    ours: createProcessLogger({ level, now, destination: { write: (line: string) => ours.push(line) } }),
    coreLines: core,
    ourLines: ours,
  };
}

const parse = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

function lineAt(lines: string[], index: number): Record<string, unknown> {
  const line = lines[index];
  if (line === undefined) throw new Error(`no line ${index}: ${lines.length} written`);
  return JSON.parse(line) as Record<string, unknown>;
}

/** The same calls through any Logger. */
function exercise(logger: Logger): void {
  const request = logger.child({ requestId: 'req-1' });
  request.info('request', { method: 'POST', path: '/', status: 201, ms: 12.5 });
  const call = request.child({ adapter: 'okta', operation: 'create' });
  call.debug('idp request', {
    idp: 'Okta',
    method: 'POST',
    url: new URL('https://idp.example.com/oauth2/v1/apps?limit=1'),
    status: 200,
    ms: 40,
  });
  const failure = Object.assign(new Error('Okta answered 503', { cause: new TypeError('fetch failed') }), { code: 'idp_unavailable' });
  call.error('adapter call failed', { error: failure, attempts: [1, 2], detail: { reason: 'busy', retry: null, skipped: undefined } });
  call.warn('no fields');
  // A field wins over a binding of the same name.
  call.info('overridden', { adapter: 'keycloak' });
  logger.info('listening', { url: 'http://127.0.0.1:3000', port: 3000, devMode: true });
}

describe('createProcessLogger: the lines of core’s createJsonLogger', () => {
  it('writes the same lines (time, level, msg, bindings, fields, Errors) for the same calls', () => {
    const { core, ours, coreLines, ourLines } = capture();
    exercise(core);
    exercise(ours);
    expect(ourLines).toHaveLength(coreLines.length);
    expect(parse(ourLines)).toEqual(parse(coreLines));
    const error = lineAt(ourLines, 2);
    expect(error).toMatchObject({
      time: '2025-03-04T05:06:07.089Z',
      level: 'error',
      msg: 'adapter call failed',
      requestId: 'req-1',
      adapter: 'okta',
      operation: 'create',
    });
    expect(error.error).toEqual({
      name: 'Error',
      message: 'Okta answered 503',
      code: 'idp_unavailable',
      cause: { name: 'TypeError', message: 'fetch failed' },
    });
  });

  it('writes one JSON object per line, no pid nor hostname, no key twice', () => {
    const { ours, ourLines } = capture();
    exercise(ours);
    for (const line of ourLines) {
      expect(line.endsWith('}\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(line.startsWith('{"level":')).toBe(true);
      const keys = [...line.matchAll(/"([^"\\]+)":/g)].map((match) => match[1]);
      expect(keys).not.toContain('pid');
      expect(keys).not.toContain('hostname');
    }
    // The binding `adapter` and the field `adapter` make one key.
    expect(ourLines[4]?.match(/"adapter":/g)).toHaveLength(1);
    expect(lineAt(ourLines, 4)).toMatchObject({ adapter: 'keycloak', operation: 'create', requestId: 'req-1' });
  });

  it('drops the levels below its own, info by default', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      const { core, ours, coreLines, ourLines } = capture(level);
      for (const logger of [core, ours]) {
        logger.debug('d');
        logger.child({ requestId: 'r' }).info('i');
        logger.warn('w');
        logger.error('e');
      }
      expect(parse(ourLines).map((line) => line.level)).toEqual(parse(coreLines).map((line) => line.level));
    }
    const lines: string[] = [];
    const byDefault = createProcessLogger({ destination: { write: (line: string) => lines.push(line) } });
    byDefault.debug('hidden');
    byDefault.info('shown');
    expect(parse(lines).map((line) => line.msg)).toEqual(['shown']);
  });

  it('keeps each child’s bindings to itself', () => {
    const { ours, ourLines } = capture();
    const parent = ours.child({ requestId: 'a' });
    const child = parent.child({ requestId: 'b', clientId: 'c1' });
    child.info('child');
    parent.info('parent');
    ours.info('root');
    expect(parse(ourLines).map(({ time: _time, ...rest }) => rest)).toEqual([
      { level: 'info', msg: 'child', requestId: 'b', clientId: 'c1' },
      { level: 'info', msg: 'parent', requestId: 'a' },
      { level: 'info', msg: 'root' },
    ]);
  });
});

describe('createProcessLogger: no secret reaches the output', () => {
  // Each secret is unique, so that finding it anywhere in the output is a leak.
  const secret = (name: string) => `S3cr3t${name}Xq9`;

  it('redacts secret-named fields, credentials in text, URLs, JSON in text and Errors, at any depth', () => {
    const { ours, ourLines } = capture();
    const log = ours.child({ requestId: 'r', authorization: `Bearer ${secret('binding')}` });
    log.info('fields', {
      client_id: 'public-client-id',
      client_secret: secret('client_secret'),
      registration_access_token: secret('rat'),
      'x-api-key': secret('apikey'),
      Authorization: `Basic ${secret('basic')}`,
      headers: { authorization: `SSWS ${secret('ssws')}`, cookie: secret('cookie'), accept: 'application/json' },
      body: { credentials: { password: secret('password') }, nested: { deeper: { initialAccessToken: secret('iat') } } },
      list: [{ refresh_token: secret('refresh') }, `DPoP ${secret('dpop')}`],
      webHeaders: new Headers({ authorization: `Bearer ${secret('headers')}`, 'content-type': 'application/json' }),
    });
    log.warn(`a message quoting Bearer ${secret('message')}`, {});
    log.debug('text', {
      url: `https://idp.example.com/token?client_id=public-client-id&client_secret=${secret('query')}&scope=read`,
      form: `grant_type=client_credentials&client_secret=${secret('form')}`,
      answer: `{"error":"invalid_client","client_secret":"${secret('json')}","client_id":"public-client-id"}`,
      withUser: `https://admin:${secret('userinfo')}@idp.example.com/admin`,
      urlObject: new URL(`https://admin:${secret('urlpass')}@idp.example.com/apps?token=${secret('urltoken')}&limit=1`),
    });
    log.error('failed', {
      error: new Error(`Keycloak refused Bearer ${secret('errmsg')}`, {
        cause: Object.assign(new Error('inner'), { client_secret: secret('cause') }),
      }),
      err: new Error(`POST https://idp.example.com/token?client_secret=${secret('errurl')} failed`),
    });

    const output = ourLines.join('');
    expect(output.match(/S3cr3t\w+Xq9/g) ?? []).toEqual([]);
    // What is not secret stays readable.
    const fields = lineAt(ourLines, 0);
    const message = lineAt(ourLines, 1);
    const text = lineAt(ourLines, 2);
    const failed = lineAt(ourLines, 3);
    expect(fields).toMatchObject({
      client_id: 'public-client-id',
      client_secret: REDACTED,
      'x-api-key': REDACTED,
      authorization: REDACTED,
      headers: { authorization: REDACTED, accept: 'application/json' },
    });
    expect(fields.webHeaders).toEqual({ authorization: REDACTED, 'content-type': 'application/json' });
    expect(message.msg).toBe(`a message quoting Bearer ${REDACTED}`);
    expect(text.url).toBe(`https://idp.example.com/token?client_id=public-client-id&client_secret=${REDACTED}&scope=read`);
    expect(text.form).toBe(`grant_type=client_credentials&client_secret=${REDACTED}`);
    expect(JSON.parse(text.answer as string)).toEqual({ error: 'invalid_client', client_secret: REDACTED, client_id: 'public-client-id' });
    expect(text.withUser).toBe(`https://${REDACTED}@idp.example.com/admin`);
    expect(text.urlObject).toBe('https://idp.example.com/apps?token=%5BREDACTED%5D&limit=1');
    expect(failed.error).toEqual({
      name: 'Error',
      message: `Keycloak refused Bearer ${REDACTED}`,
      cause: { name: 'Error', message: 'inner' },
    });
    expect(failed.err).toEqual({ name: 'Error', message: `POST https://idp.example.com/token?client_secret=${REDACTED} failed` });
  });

  it('leaves text without credentials alone', () => {
    const line =
      '{"msg":"a=1&b=two words","url":"https://idp.example.com/x?client_secret=%5BREDACTED%5D&state=s","mail":"dev@example.com","empty":"token="}';
    expect(redactLine(line)).toBe(line);
  });

  it('names in its pino redact paths only fields core calls secret, and pino accepts and applies them', () => {
    for (const name of SECRET_FIELDS) expect(isSecretKey(name), name).toBe(true);
    const lines: string[] = [];
    const plain = pino({ base: null, redact: { paths: SECRET_PATHS, censor: REDACTED } }, { write: (line: string) => lines.push(line) });
    plain.info({ 'x-api-key': secret('k'), client_secret: secret('c'), headers: { authorization: secret('h'), accept: 'text/plain' } });
    expect(lineAt(lines, 0)).toMatchObject({
      'x-api-key': REDACTED,
      client_secret: REDACTED,
      headers: { authorization: REDACTED, accept: 'text/plain' },
    });
  });
});

describe('createProcessLogger: the asynchronous destination', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcr-logger-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has written every line once flush resolves, and flushes when nothing is pending', async () => {
    const file = join(dir, 'async.log');
    const destination = pino.destination({ dest: file, sync: false });
    await new Promise((resolve) => destination.once('ready', resolve));
    const root = createProcessLogger({ destination });
    const logger = root.child({ requestId: 'r' });
    const count = 2_000;
    for (let index = 0; index < count; index++) logger.info('request', { index, path: `/${'x'.repeat(100)}` });
    await root.flush();
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(count);
    expect(JSON.parse(lines.at(-1) ?? '')).toMatchObject({ msg: 'request', index: count - 1, requestId: 'r' });
    await root.flush();
    destination.end();
    await new Promise((resolve) => destination.once('close', resolve));
    // Ended: nothing left to wait for.
    await root.flush();
  });
});

describe('the process logs through it', () => {
  const apiKey = 'logger_test_api_key_0123456789';
  const processes: BridgeProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((bridge) => bridge.stop('SIGKILL')));
  });
  const jsonLines = (bridge: BridgeProcess) =>
    bridge
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes its last lines before exiting on SIGTERM', { timeout: 60_000 }, async () => {
    const bridge = await runBridgeProcess({ DCR_BRIDGE_API_KEYS: apiKey });
    processes.push(bridge);
    const listening = jsonLines(bridge).find((line) => line.msg === 'listening');
    expect(listening).toMatchObject({ level: 'info', url: bridge.url });
    expect(Object.keys(listening ?? {}).slice(0, 2)).toEqual(['level', 'time']);
    const refused = await fetch(`${bridge.url}/`, { method: 'POST', headers: { 'x-api-key': `Bearer ${apiKey}-wrong` } });
    expect(refused.status).toBe(401);
    expect(await bridge.stop('SIGTERM')).toBe(0);
    const messages = jsonLines(bridge).map((line) => line.msg);
    expect(messages.slice(-3)).toEqual(['signal received', 'shutting down', 'stopped']);
    expect(messages).toContain('request');
    expect(bridge.stdout()).not.toContain(apiKey);
  });

  it('writes the fatal line of a start that fails, then exits 1', { timeout: 60_000 }, async () => {
    // Settings that pass every check but that the adapter refuses when it is built: an overlap Keycloak cannot keep.
    const bridge = await runBridgeProcess(
      {
        DCR_BRIDGE_ADAPTER: 'keycloak',
        DCR_BRIDGE_API_KEYS: apiKey,
        KEYCLOAK_URL: 'https://sso.example.com',
        KEYCLOAK_REALM: 'konnect',
        KEYCLOAK_CLIENT_ID: 'dcr-bridge',
        KEYCLOAK_CLIENT_SECRET: 'admin-secret-value',
        DCR_BRIDGE_ROTATION_OVERLAP: '1h',
      },
      { waitForListening: false },
    );
    processes.push(bridge);
    expect(await bridge.exited).toBe(1);
    const fatal = jsonLines(bridge).find((line) => line.msg === 'dcr-bridge cannot start');
    expect(fatal).toMatchObject({ level: 'error', error: { name: 'Error' } });
    expect((fatal?.error as { message: string }).message).toContain('set the rotation overlap to 0');
    expect(bridge.stdout()).not.toContain('admin-secret-value');
  });
});
