import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBridgeProcess, runCli, type BridgeProcess } from './process.js';

/** The `dcr-bridge` command line, as real processes. */
const apiKey = 'cli_api_key_0123456789';
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
let bridge: BridgeProcess;
const stubs: Server[] = [];

beforeAll(async () => {
  bridge = await runBridgeProcess({ DCR_BRIDGE_API_KEYS: apiKey, DCR_BRIDGE_BASE_PATH: '/v1/dcr' });
});
afterAll(async () => {
  await bridge?.stop('SIGKILL');
  await Promise.all(stubs.map((server) => new Promise((resolve) => server.close(resolve))));
});

interface Report {
  ok: boolean;
  steps: { name: string; result: string; status: number | null; expected: string; ms: number; detail?: string }[];
}

/** No secret-looking token (30+ base64url characters) anywhere in what the command printed. */
function expectNoSecret(output: string): void {
  expect(output.match(/[A-Za-z0-9_-]{30,}/g)).toBeNull();
}

/** The modules of src/ that `dcr-bridge <args>` loads (test/fixtures/record-modules.mjs), as paths under src/. */
function modulesLoadedBy(args: string[]): string[] {
  const run = spawnSync(
    process.execPath,
    [
      '--conditions=@dcr-bridge/source',
      '--import',
      'tsx',
      '--import',
      fileURLToPath(new URL('fixtures/record-modules.mjs', import.meta.url)),
      fileURLToPath(new URL('../src/bin.ts', import.meta.url)),
      ...args,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
  );
  expect(run.status).toBe(0);
  return [...run.stderr.matchAll(/^loaded .*\/apps\/server\/src\/(.*)$/gm)].map((match) => match[1] as string);
}

describe('what a command loads', () => {
  it('serve carries none of the other commands: doctor, verify and konnect load when run', { timeout: 60_000 }, () => {
    const serve = modulesLoadedBy(['serve', '--help']);
    expect(serve).toEqual(expect.arrayContaining(['cli/main.ts', 'cli/serve.ts', 'server.ts']));
    expect(serve.filter((path) => /^(cli\/(doctor|verify|konnect)|konnect\/)/.test(path))).toEqual([]);
    // The recording sees a command's module when it loads: konnect's help text lives in its module.
    expect(modulesLoadedBy(['konnect', '--help'])).toContain('cli/konnect.ts');
  });
});

describe('dcr-bridge --version, --help, usage errors', () => {
  it('prints the package version and exits 0', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
    const json = await runCli(['--version', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ version });
  });

  it('lists the subcommands and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\s+serve\s/m);
    expect(run.stdout).toMatch(/^\s+verify <url>\s/m);
    const verifyHelp = await runCli(['verify', '--help']);
    expect(verifyHelp.code).toBe(0);
    expect(verifyHelp.stdout).toContain('--lifecycle');
  });

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
    [['verify', 'http://127.0.0.1:9', '--api-key', apiKey, '--frobnicate'], "Unknown option '--frobnicate'"],
    [['verify', '--api-key', apiKey], 'the URL of the bridge is missing'],
    [['verify', 'not a url', '--api-key', apiKey], 'is not an http(s) URL'],
    [['verify', 'http://127.0.0.1:9'], '--api-key is required'],
    [['serve', 'extra'], "Unexpected argument 'extra'"],
  ])('%j is a usage error: exit 2 and a one-line hint', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('dcr-bridge verify against this bridge in dev mode', () => {
  it.each([
    [false, ['create', 'delete']],
    [true, ['create', 'new-secret', 'event-hook', 'delete', 'delete-again', 'no-api-key']],
  ])('passes with --lifecycle %s, in JSON', async (lifecycle, names) => {
    const run = await runCli(['verify', `${bridge.url}/v1/dcr`, '--api-key', apiKey, '--json', ...(lifecycle ? ['--lifecycle'] : [])]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.ok).toBe(true);
    expect(report.steps.map((step) => [step.name, step.result])).toEqual(names.map((name) => [name, 'pass']));
    expect(report.steps.map((step) => step.status)).toEqual(
      names.map((name) => ({ create: 201, 'new-secret': 200, 'event-hook': 200, 'no-api-key': 401 })[name] ?? 204),
    );
    expectNoSecret(run.stdout);
  });

  it.each([false, true])('passes with --lifecycle %s, for humans', async (lifecycle) => {
    const run = await runCli(['verify', `${bridge.url}/v1/dcr/`, '--api-key', apiKey, ...(lifecycle ? ['--lifecycle'] : [])]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PASS {2}create +POST \/ {2}201 {2}expected 201/m);
    expect(run.stdout).toMatch(/^PASS {2}delete +DELETE \/\{clientId\} {2}204/m);
    if (lifecycle) expect(run.stdout).toMatch(/^PASS {2}new-secret .* 200 .*\n^PASS {2}event-hook .* 200 /m);
    expect(run.stdout).not.toMatch(/^(FAIL|SKIP)/m);
    expect(run.stdout).toContain(`All ${lifecycle ? 6 : 2} checks passed.`);
    expectNoSecret(run.stdout + run.stderr);
  });

  it('fails at the create with the 401 a wrong API key gets, and exits 1', async () => {
    const run = await runCli(['verify', `${bridge.url}/v1/dcr`, '--api-key', 'wrong_key_0123456789', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.steps[0]).toMatchObject({ name: 'create', result: 'fail', status: 401 });
    expect(report.steps[0]!.detail).toContain('answered 401 instead of 201');
    expect(report.steps[1]).toMatchObject({ name: 'delete', result: 'skip' });
  });

  it('reports a bridge that does not answer', async () => {
    const closed = await listen(() => undefined);
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const run = await runCli(['verify', `http://127.0.0.1:${port}`, '--api-key', apiKey]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}create +POST \/ {2}--- .*\n +no answer: ECONNREFUSED/m);
  });
});

describe('dcr-bridge verify against a bridge that breaks the contract', () => {
  /** A bridge that does what Konnect expects, but for the fault it is given. */
  function stubBridge(fault: { create?: number; omitSecret?: boolean; otherClientIdOnRotate?: boolean; deleteAgain?: number }) {
    const deleted = new Set<string>();
    const calls: string[] = [];
    let secrets = 0;
    return listen((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      const send = (status: number, body?: unknown) => {
        res
          .writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' })
          .end(body === undefined ? undefined : JSON.stringify(body));
      };
      if (req.headers['x-api-key'] !== apiKey) return send(401, { error: 'unauthorized', error_description: 'wrong key' });
      const secret = () => `stub_secret_${++secrets}_${'s'.repeat(40)}`;
      if (req.method === 'POST' && req.url === '/') {
        return send(fault.create ?? 201, { client_id: 'stub-client', ...(fault.omitSecret ? {} : { client_secret: secret() }) });
      }
      if (req.method === 'POST' && req.url === '/stub-client/new-secret')
        return send(200, { client_id: fault.otherClientIdOnRotate ? 'another-client' : 'stub-client', client_secret: secret() });
      if (req.method === 'POST' && req.url === '/stub-client/event-hook') return send(200);
      if (req.method === 'DELETE' && req.url === '/stub-client') {
        if (deleted.has('stub-client'))
          return send(
            fault.deleteAgain ?? 204,
            fault.deleteAgain ? { error: 'not_found', error_description: 'no such client' } : undefined,
          );
        deleted.add('stub-client');
        return send(204);
      }
      send(404, { error: 'not_found', error_description: 'no such route' });
    }).then((server) => ({ server, calls, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  }

  it.each([
    ['create answers 200 instead of 201', { create: 200 }, false, 'create', 'answered 200 instead of 201'],
    ['create omits client_secret', { omitSecret: true }, false, 'create', 'client_secret is missing'],
    ['new-secret answers with another client_id', { otherClientIdOnRotate: true }, true, 'new-secret', 'client_id differs'],
    [
      'a repeated delete answers 404',
      { deleteAgain: 404 },
      true,
      'delete-again',
      'answered 404 instead of 204 (not_found: no such client)',
    ],
  ])('%s: exit 1, the failed check named, the client deleted', async (_title, fault, lifecycle, failed, detail) => {
    const stub = await stubBridge(fault);
    const run = await runCli(['verify', stub.url, '--api-key', apiKey, ...(lifecycle ? ['--lifecycle'] : [])]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^FAIL {2}${failed} `, 'm'));
    expect(run.stdout).toContain(detail);
    expect(run.stdout.match(/^FAIL/gm)).toHaveLength(1);
    expect(run.stdout).toContain('1 of');
    // What verify created, it deleted.
    expect(stub.calls).toContain('DELETE /stub-client');
    expectNoSecret(run.stdout + run.stderr);
  });
});

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  stubs.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
