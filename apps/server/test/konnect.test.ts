import { mkdtempSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@dcr-bridge/core';
import { loadConfig, startServer, type RunningServer } from '../src/index.js';
import { runKonnect, type KonnectOptions } from '../src/konnect/setup.js';
import { openAdapter } from '../src/server.js';
import { idpTargets, type IdpTarget } from './idp-targets.js';
import { startKonnectStub, type KonnectStub } from './konnect-stub.js';
import { runCli } from './process.js';

/**
 * `dcr-bridge konnect` against a Konnect stub built from Kong's pinned OpenAPI documents (every request and answer
 * checked against them), with two bridge replicas (rfc7591 against oidc-provider) behind a small load balancer,
 * which Konnect's verify calls back into with portal_id "test portal_id".
 */
const firstKey = 'first_api_key_0123456789abcdef';

let target: IdpTarget;
let stub: KonnectStub;
let dir: string;
let keyFile: string;
let balancer: Balancer;
const replicas: Array<RunningServer | undefined> = [undefined, undefined];

/** The bridge's settings, as the replicas and the command read them. */
function bridgeEnv(replica: string): Record<string, string> {
  return {
    ...target.env,
    DCR_BRIDGE_API_KEYS_FILE: keyFile,
    DCR_BRIDGE_STORE: join(dir, `${replica}.sqlite`),
    DCR_BRIDGE_JOURNAL: join(dir, `${replica}.journal`),
    PORT: '0',
    HOST: '127.0.0.1',
  };
}

function commandEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...bridgeEnv('command'),
    KONNECT_TOKEN: stub.token,
    KONNECT_API_URL: stub.url,
    DCR_BRIDGE_PUBLIC_URL: balancer.url,
    DCR_BRIDGE_BASE_PATH: '/',
    ...extra,
  };
}

function konnect(command: 'setup' | 'status' | 'rotate-key', options: Partial<KonnectOptions> = {}, env: Record<string, string> = {}) {
  return runKonnect(command, {
    env: commandEnv(env),
    cwd: dir,
    timeoutMs: 10_000,
    sleep: async () => undefined,
    openAdapter: (config) => openAdapter(config, { logger: silentLogger, journalFile: false }),
    ...options,
  });
}

async function startReplica(index: number): Promise<void> {
  const { config, problems } = await loadConfig(bridgeEnv(`replica-${index}`), dir);
  expect(problems).toEqual([]);
  replicas[index] = await startServer(config!, { logger: silentLogger, printBanner: () => undefined });
  balancer.backends[index] = replicas[index]!.port;
}

/** A rolling restart: one replica at a time leaves the balancer, restarts (reading the key file again) and returns. */
async function rollingRestart(): Promise<void> {
  for (const index of [0, 1]) {
    balancer.backends[index] = undefined;
    await replicas[index]?.close();
    await startReplica(index);
  }
}

interface Balancer {
  url: string;
  backends: Array<number | undefined>;
  server: Server;
}

/** Round robin over the replicas that are up, as a Kubernetes Service over ready pods. */
async function startBalancer(): Promise<Balancer> {
  let next = 0;
  const balancer: Balancer = { url: '', backends: [undefined, undefined], server: createServer() };
  balancer.server.on('request', (req, res) => {
    const up = balancer.backends.filter((port): port is number => port !== undefined);
    if (up.length === 0) return void res.writeHead(503).end();
    const port = up[next++ % up.length]!;
    const forward = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => balancer.server.listen(0, '127.0.0.1', resolve));
  balancer.url = `http://127.0.0.1:${(balancer.server.address() as AddressInfo).port}`;
  return balancer;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcr-konnect-'));
  keyFile = join(dir, 'api-keys');
  writeFileSync(keyFile, `${firstKey}\n`, { mode: 0o600 });
  target = await idpTargets.rfc7591();
  // Konnect caps its pages; other objects of the organization come first, so finding ours takes several pages.
  stub = await startKonnectStub({ maxPageSize: 2 });
  for (const name of ['other-a', 'other-b', 'other-c']) {
    stub.providers.set(name, {
      id: crypto.randomUUID(),
      name,
      provider_type: 'http',
      issuer: 'https://other.example.com',
      dcr_config: { dcr_base_url: 'https://other.example.com/dcr', api_key: 'other_key_0123456789' },
      labels: {},
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
    });
    stub.strategies.set(name, {
      id: crypto.randomUUID(),
      name,
      display_name: name,
      strategy_type: 'openid_connect',
      configs: {
        'openid-connect': { issuer: 'https://other.example.com', credential_claim: ['sub'], scopes: [], auth_methods: ['bearer'] },
      },
      dcr_provider_id: null,
      active: false,
      labels: {},
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
    });
  }
  balancer = await startBalancer();
  await startReplica(0);
  await startReplica(1);
}, 60_000);

afterAll(async () => {
  for (const replica of replicas) await replica?.close();
  await new Promise((resolve) => balancer?.server.close(resolve));
  await stub?.close();
  await target?.close();
});

const ours = () => [...stub.providers.values()].find((provider) => provider.name === 'dcr-bridge');
const ourStrategy = () => [...stub.strategies.values()].find((strategy) => strategy.name === 'dcr-bridge');
const writes = () => stub.requests.filter((line) => !line.startsWith('GET') && !line.endsWith('/verify'));

describe('dcr-bridge konnect', () => {
  it('setup --dry-run shows what it would create and changes nothing', async () => {
    const report = await konnect('setup', { dryRun: true });
    expect(report.checks.filter((check) => check.result === 'fail')).toEqual([]);
    expect(report.changes.map((change) => [change.object, change.action])).toEqual([
      ['provider', 'create'],
      ['strategy', 'create'],
    ]);
    expect(writes()).toEqual([]);
    expect(ours()).toBeUndefined();
  });

  it('setup from nothing creates the provider and the strategy, and passes verify called back into the bridge', async () => {
    const report = await konnect('setup');
    expect(report.checks.filter((check) => check.result === 'fail')).toEqual([]);
    expect(report.ok).toBe(true);
    const provider = ours()!;
    expect(provider).toMatchObject({
      provider_type: 'http',
      issuer: target.env.RFC7591_ISSUER,
      dcr_config: { dcr_base_url: balancer.url, api_key: firstKey, disable_event_hooks: false, disable_refresh_secret: false },
      labels: { 'managed-by': 'dcr-bridge' },
    });
    const strategy = ourStrategy()!;
    expect(strategy).toMatchObject({
      strategy_type: 'openid_connect',
      dcr_provider_id: provider.id,
      configs: {
        'openid-connect': {
          issuer: target.env.RFC7591_ISSUER,
          scopes: ['openid'],
          credential_claim: ['client_id'],
          auth_methods: ['client_credentials', 'bearer'],
        },
      },
    });
    expect(report.verify).toEqual({ status: 'success', errors: [] });
    expect(stub.verifications.at(-1)).toEqual({ status: 201, portalId: 'test portal_id' });
    expect(report.next.join('\n')).toContain(strategy.id);
    expect(report.next.join('\n')).toContain(provider.id);
    // Found among the organization's other objects, page by page.
    expect(stub.requests.some((line) => line.includes('page%5Bnumber%5D=2'))).toBe(true);
    stub.v2.expectNoProblems();
    stub.v3.expectNoProblems();
  }, 30_000);

  it('a second setup changes nothing', async () => {
    const before = writes().length;
    const report = await konnect('setup');
    expect(report.ok).toBe(true);
    expect(report.changes.map((change) => change.action)).toEqual(['unchanged', 'unchanged']);
    expect(writes().length).toBe(before);
    expect(report.verify?.status).toBe('success');
  }, 30_000);

  it('a changed bridge URL updates the provider, and only that', async () => {
    const moved = balancer.url.replace('127.0.0.1', 'localhost');
    const before = writes().length;
    const report = await konnect('setup', {}, { DCR_BRIDGE_PUBLIC_URL: moved });
    expect(report.ok).toBe(true);
    expect(report.changes[0]).toMatchObject({ action: 'update', fields: [`dcr_config.dcr_base_url: "${balancer.url}" → "${moved}"`] });
    expect(report.changes[1]?.action).toBe('unchanged');
    expect(writes().slice(before)).toEqual([`PATCH /v2/dcr-providers/${ours()!.id}`]);
    expect(ours()!.dcr_config.dcr_base_url).toBe(moved);
    expect(report.verify?.status).toBe('success');
    await konnect('setup');
    expect(ours()!.dcr_config.dcr_base_url).toBe(balancer.url);
  }, 30_000);

  it('status finds a drifted setting, with its fix, and exits 1 from the command line without printing the token or a key', async () => {
    expect((await konnect('status')).ok).toBe(true);
    ourStrategy()!.configs['openid-connect']!.scopes = ['openid', 'email'];
    const report = await konnect('status');
    expect(report.ok).toBe(false);
    expect(report.checks).toContainEqual({
      group: 'strategy',
      name: 'dcr-bridge',
      result: 'fail',
      detail: 'drifted: configs.openid-connect.scopes: ["openid","email"] → ["openid"]',
      fix: 'run dcr-bridge konnect setup (or change it back in Konnect)',
    });

    const cli = await runCli(['konnect', 'status'], commandEnv());
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('FAIL  dcr-bridge — drifted: configs.openid-connect.scopes');
    expect(cli.stdout).toContain('fix: run dcr-bridge konnect setup');
    for (const secret of [stub.token, firstKey]) expect(cli.stdout + cli.stderr).not.toContain(secret);

    await konnect('setup');
    expect((await konnect('status', { verify: true })).ok).toBe(true);
  }, 60_000);

  it("Konnect's 429 is retried after Retry-After, and reported plainly when it persists", async () => {
    stub.rateLimit(2, '1');
    const waited: number[] = [];
    expect((await konnect('status', { sleep: async (ms) => void waited.push(ms) })).ok).toBe(true);
    expect(waited).toEqual([1000, 1000]);

    stub.rateLimit(10, '5');
    const report = await konnect('status');
    stub.rateLimit(0);
    expect(report.ok).toBe(false);
    const failure = report.checks.find((check) => check.result === 'fail')!;
    expect(failure.detail).toMatch(/^Konnect answered 429 to GET \/v3\/organizations\/me: Too many requests/);
    expect(failure.fix).toMatch(/rate limit: still refused after 3 retries \(Retry-After 5\)/);
  });

  it('a refused token and a missing one are explained, never shown', async () => {
    const refused = await konnect('status', {}, { KONNECT_TOKEN: 'kpat_not_the_right_one_0000' });
    const failure = refused.checks.find((check) => check.result === 'fail')!;
    expect(failure.detail).toMatch(/^Konnect answered 401 to GET \/v3\/organizations\/me: Invalid credentials/);
    expect(failure.fix).toMatch(/KONNECT_TOKEN was refused/);
    expect(JSON.stringify(refused)).not.toContain('kpat_not_the_right_one');

    const missing = await konnect('status', {}, { KONNECT_TOKEN: '' });
    expect(missing.checks).toEqual([expect.objectContaining({ name: 'KONNECT_TOKEN', result: 'fail', detail: 'not set' })]);
  });

  it('rotate-key: Konnect gets a new key with no moment where the bridge refuses the key Konnect holds', async () => {
    const oldKey = ours()!.dcr_config.api_key!;
    // Konnect calling the bridge all along, with whatever key it holds at the time.
    const statuses: number[] = [];
    let calling = true;
    const caller = (async () => {
      while (calling) {
        const key = ours()!.dcr_config.api_key!;
        const res = await fetch(`${balancer.url}/dcr-bridge-key-check/event-hook`, {
          method: 'POST',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: '{}',
        });
        statuses.push(res.status);
        await res.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    const synced: string[][] = [];
    const report = await konnect('rotate-key', {
      keyFile,
      waitMs: 30_000,
      sync: async (file) => {
        synced.push(
          readFileSync(file, 'utf8')
            .split('\n')
            .filter((line) => line && !line.startsWith('#')),
        );
        await rollingRestart();
      },
    });
    calling = false;
    await caller;

    expect(report.checks.filter((check) => check.result === 'fail')).toEqual([]);
    expect(report.verify?.status).toBe('success');
    const newKey = ours()!.dcr_config.api_key!;
    expect(newKey).not.toBe(oldKey);
    expect(newKey).toMatch(/^[A-Za-z0-9_]{43}$/);
    expect(synced).toEqual([[oldKey, newKey], [newKey]]);
    expect(readFileSync(keyFile, 'utf8')).not.toContain(oldKey);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((status) => status === 401)).toEqual([]);
    // The old key is refused now; the report names keys by fingerprint only.
    const old = await fetch(`${balancer.url}/dcr-bridge-key-check/event-hook`, {
      method: 'POST',
      headers: { 'x-api-key': oldKey, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(old.status).toBe(401);
    const text = JSON.stringify(report);
    for (const secret of [oldKey, newKey, stub.token]) expect(text).not.toContain(secret);
    expect(stub.answers.join('\n')).not.toContain(newKey);
    stub.v2.expectNoProblems();
  }, 120_000);

  it('setup --new-key --dry-run names the key it would write by its fingerprint, and writes nothing', async () => {
    const file = join(dir, 'new-keys');
    const report = await konnect('setup', { dryRun: true, newKey: true, keyFile: file, updateKey: true });
    expect(report.changes[0]).toMatchObject({
      object: 'key file',
      action: 'write',
      fields: [expect.stringMatching(/^add key sha256:[0-9a-f]{12} \(mode 600\)$/)],
    });
    expect(report.changes[1]?.fields).toContainEqual(expect.stringMatching(/^dcr_config\.api_key: (→ )?sha256:[0-9a-f]{12}$/));
    expect(() => statSync(file)).toThrow();
  });
});
