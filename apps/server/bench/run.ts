import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { konnectApplication, konnectEvent } from '@dcr-bridge/conformance';
import { directCalls, isTokenRequest, type DirectCalls } from './direct.js';
import { benchLambda } from './lambda.js';

/**
 * `pnpm bench`: what the bridge adds on top of each IdP, adapter by adapter.
 *
 * For each adapter, its IdP stub runs in a process of its own (stub.ts: the in-memory fake of the
 * adapter's own tests, or for rfc7591 a minimal RFC 7591/7592 stub) and the built bridge (`node
 * dist/bin.js`, as in production) in another, pointed at it. Connections drive Konnect cycles through the
 * bridge: create → new-secret → update_application event → delete. Then the very IdP calls each of those
 * operations makes (direct.ts: the floor) are driven straight at the stub. Reported per adapter:
 * - IdP calls per operation, counted from the stub's request log over sequential cycles (admin token
 *   requests aside: one per token lifetime);
 * - paced (`--rate` cycles/s, below saturation): p50/p99 per operation, bridge and floor, and the difference;
 * - saturated (every connection as fast as it can): cycles/s, bridge and floor;
 * - the bridge's peak RSS (VmHWM, after both runs) and its start time (process start → first answer).
 *
 * Then, for okta, the side by side (`beside()`): the bridge, each `--variant label:ENV=value,…` of it (the
 * same build with other settings, e.g. `NODE_OPTIONS=--max-semi-space-size=8`), and with `--kong <dir>` Kong's
 * example bridge (its directory, built there with `npm install && npx tsc`, or its dist/app.js; it listens on
 * port 3000), each against the same Okta stub, `--rounds` times in turn so that a shared machine's load falls
 * on all of them alike. Each gets the equal-work cycle (create → new-secret → delete: what Kong's example
 * does too) and the full cycle (with update_application, which Kong's example answers without a call), and the
 * stub's requests and CPU per equal-work cycle (what each contender costs the IdP, sharing the machine's cores);
 * the bridge also its journal's durable writes per operation and its syncs per cycle under load (from /metrics).
 * `--adapters ''` runs the side by side alone; `--skip-lambda` leaves out the Lambda figures.
 * Everything stays on 127.0.0.1 and ends by itself.
 */
const { values } = parseArgs({
  options: {
    adapters: { type: 'string', default: 'okta,keycloak,pingone,pingfederate,cognito,rfc7591' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string', default: '100' },
    kong: { type: 'string' },
    variant: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '2' },
    'skip-lambda': { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
  },
});
const ADAPTERS = values.adapters
  .split(',')
  .map((id) => id.trim())
  .filter(Boolean);
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const PACED_CYCLES_PER_SECOND = Number(values.rate);
const WARMUP_SECONDS = 2;
const COUNTED_CYCLES = 20;
const OPS = ['create', 'rotate', 'update', 'delete'] as const;
type Op = (typeof OPS)[number];

const serverDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(serverDir, 'dist', 'bin.js');
const apiKey = 'bench_api_key_0123456789';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface Stub {
  child: ChildProcess;
  env: Record<string, string>;
  application: Record<string, unknown>;
  control: string;
}

function startStub(adapter: string): Promise<Stub> {
  const child = spawn(
    process.execPath,
    ['--conditions=@dcr-bridge/source', '--import', 'tsx', join(serverDir, 'bench', 'stub.ts'), adapter],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`the ${adapter} stub exited (${code})`)));
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('\n')) return;
      child.removeAllListeners('exit');
      resolve({ child, ...(JSON.parse(out.slice(0, out.indexOf('\n'))) as Omit<Stub, 'child'>) });
    });
  });
}

async function waitUntilAnswering(url: string, started: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bridge exited (${child.exitCode}) before it answered`);
    const ok = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return performance.now() - started;
    if (performance.now() - started > 20_000) throw new Error(`${url} did not start in 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function startBridge(
  stub: Stub,
  storeDir: string,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [...values['node-args'].split(' ').filter(Boolean), bin], {
    // Logs go to a pipe that is drained, as under a container runtime (a pipe is where sync writes cost).
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH,
      ...stub.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DCR_BRIDGE_API_KEYS: apiKey,
      DCR_BRIDGE_STORE: join(storeDir, `state-${port}.sqlite`),
      DCR_BRIDGE_JOURNAL: join(storeDir, `journal-${port}`),
      DCR_BRIDGE_STORE_KEY: randomBytes(32).toString('base64'),
      ...extraEnv,
    },
  });
  child.stdout?.resume();
  try {
    return { child, url, startMs: await waitUntilAnswering(url, started, child) };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Kong's example's built app: `--kong` names its directory (built there) or the file itself. */
function kongApp(given: string): string {
  const app = statSync(given).isDirectory() ? join(given, 'dist', 'app.js') : given;
  if (!existsSync(app)) throw new Error(`${app} is missing: build Kong's example first (npm install && npx tsc in its directory).`);
  return app;
}

async function startKong(kongApp: string, stub: Stub): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const url = 'http://127.0.0.1:3000';
  const child = spawn(process.execPath, [kongApp], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH,
      OKTA_DOMAIN: `${stub.env.OKTA_DOMAIN}/`,
      OKTA_API_TOKEN: stub.env.OKTA_API_TOKEN,
      KONG_API_TOKENS: apiKey,
    },
  });
  child.stdout?.resume();
  // Kong's example has no health route: any answer (its 404) means it is listening.
  for (const started = performance.now(); ;) {
    if (
      await fetch(url).then(
        () => true,
        () => false,
      )
    )
      return { child, url, startMs: performance.now() - started };
    if (performance.now() - started > 20_000) throw new Error("Kong's example did not start in 20 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Run {
  latencies: Record<Op, number[]>;
  cycles: number;
  errors: number;
  firstError?: string;
  seconds: number;
  /** CPU the bridge process used during the run (saturated runs). */
  cpuMs?: number;
}

type Timer = (op: Op, work: () => Promise<void>) => Promise<void>;
type Cycle = (time: Timer) => Promise<void>;

/** One cycle per loop and connection, each operation timed from its first request to its last answer. */
async function drive(seconds: number, cycle: Cycle, cyclesPerSecond?: number): Promise<Run> {
  const run: Run = { latencies: { create: [], rotate: [], update: [], delete: [] }, cycles: 0, errors: 0, seconds };
  const deadline = performance.now() + seconds * 1000;
  const time: Timer = async (op, work) => {
    const started = performance.now();
    await work();
    run.latencies[op].push(performance.now() - started);
  };
  // Unpaced: every connection starts its next cycle at once (saturation). Paced: each connection starts
  // cycles on a fixed schedule, so the bridge is measured below saturation, without queueing.
  const interval = cyclesPerSecond ? (CONNECTIONS / cyclesPerSecond) * 1000 : 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, index) => {
      let next = performance.now() + (interval * index) / CONNECTIONS;
      while (performance.now() < deadline) {
        if (interval) {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
          next += interval;
        }
        try {
          await cycle(time);
          run.cycles++;
        } catch (error) {
          run.errors++;
          run.firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  return run;
}

async function expectStatus(response: Awaited<ReturnType<Pool['request']>>, expected: number): Promise<Record<string, unknown>> {
  if (response.statusCode !== expected) throw new Error(`HTTP ${response.statusCode}: ${(await response.body.text()).slice(0, 200)}`);
  // Kong's example answers an event hook 200 with no body at all.
  const text = await response.body.text();
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/**
 * A Konnect cycle through a DCR bridge (this one, or Kong's example). Without `update`, the equal-work cycle:
 * create, new-secret and delete cost both bridges the same IdP calls, where update_application does not.
 */
function throughBridge(pool: Pool, application: string, { update = true } = {}): Cycle {
  const json = { 'x-api-key': apiKey, 'content-type': 'application/json' };
  return async (time) => {
    let id = '';
    await time(
      'create',
      async () =>
        void (id = (await expectStatus(await pool.request({ method: 'POST', path: '/', headers: json, body: application }), 201))
          .client_id as string),
    );
    await time(
      'rotate',
      async () =>
        void (await expectStatus(await pool.request({ method: 'POST', path: `/${id}/new-secret`, headers: { 'x-api-key': apiKey } }), 200)),
    );
    const event = JSON.stringify(
      konnectEvent(id, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb', 'https://app.example.com/cb2'] }),
    );
    if (update)
      await time(
        'update',
        async () =>
          void (await expectStatus(await pool.request({ method: 'POST', path: `/${id}/event-hook`, headers: json, body: event }), 200)),
      );
    await time(
      'delete',
      async () =>
        void (await expectStatus(await pool.request({ method: 'DELETE', path: `/${id}`, headers: { 'x-api-key': apiKey } }), 204)),
    );
  };
}

function throughFloor(direct: DirectCalls): Cycle {
  return async (time) => {
    let client: Awaited<ReturnType<DirectCalls['create']>> | undefined;
    await time('create', async () => void (client = await direct.create()));
    const created = client as NonNullable<typeof client>;
    await time('rotate', () => direct.rotate(created));
    await time('update', () => direct.update(created, ['https://app.example.com/cb', 'https://app.example.com/cb2']));
    await time('delete', () => direct.delete(created));
  };
}

/** cognito-local (a Node emulator behind a proxy) serves about 150 cycles/s at most: pace it well below. */
const pacedRate = (adapter: string) => (adapter === 'cognito' ? Math.min(30, PACED_CYCLES_PER_SECOND) : PACED_CYCLES_PER_SECOND);

/** IdP calls per operation: sequential cycles on one connection, the stub's log read after each operation. */
async function countCalls(bridgeUrl: string, stub: Stub, application: string): Promise<Record<Op, string>> {
  const pool = new Pool(bridgeUrl, { connections: 1 });
  const counts: Record<Op, number[]> = { create: [], rotate: [], update: [], delete: [] };
  let mark = (await stubRequests(stub, Number.MAX_SAFE_INTEGER)).total;
  const time: Timer = async (op, work) => {
    await work();
    const log = await stubRequests(stub, mark);
    mark = log.total;
    counts[op].push(log.admin);
  };
  for (let i = 0; i < COUNTED_CYCLES; i++) await throughBridge(pool, application)(time);
  await pool.close();
  const describe = (values: number[]) => {
    const min = Math.min(...values);
    const max = Math.max(...values);
    return min === max ? String(min) : `${min}–${max}`;
  };
  return Object.fromEntries(OPS.map((op) => [op, describe(counts[op])])) as Record<Op, string>;
}

/** The stub's request log from the `since`-th request: its total, and the admin requests among them (token requests aside). */
async function stubRequests(stub: Stub, since: number): Promise<{ total: number; admin: number }> {
  const log = (await (await fetch(`${stub.control}/requests?since=${since}`)).json()) as { total: number; requests: string[] };
  return { total: log.total, admin: log.requests.filter((line) => !isTokenRequest(line)).length };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
};
const ms = (value: number) => value.toFixed(2);
const perCycle = (run: Run) => (run.cpuMs === undefined || run.cycles === 0 ? '–' : `${(run.cpuMs / run.cycles).toFixed(2)} ms`);

/** CPU time (user + system) the process has used, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

interface AdapterFigures {
  adapter: string;
  calls: Record<Op, string>;
  paced: { bridge: Run; floor: Run };
  saturated: { bridge: Run; floor: Run };
  rssMb: number;
  startMs: number;
}

async function benchAdapter(adapter: string, storeDir: string): Promise<AdapterFigures> {
  const stub = await startStub(adapter);
  try {
    // No scopes, except where the IdP needs one for client_credentials (Cognito): the floor makes the same calls.
    const application = JSON.stringify(
      konnectApplication({
        client_name: 'Bench app',
        redirect_uris: ['https://app.example.com/cb'],
        ...(adapter === 'cognito' ? stub.application : {}),
      }),
    );
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = await startBridge(stub, storeDir);
      starts.push(started.startMs);
      await stop(started.child);
    }
    const bridge = await startBridge(stub, storeDir);
    const bridgePool = new Pool(bridge.url, { connections: CONNECTIONS, pipelining: 1 });
    let calls: Record<Op, string>;
    let bridgePaced: Run;
    let bridgeSaturated: Run;
    let rssMb: number;
    try {
      calls = await countCalls(bridge.url, stub, application);
      await drive(WARMUP_SECONDS, throughBridge(bridgePool, application));
      bridgePaced = await drive(SECONDS, throughBridge(bridgePool, application), pacedRate(adapter));
      const cpuBefore = cpuMs(bridge.child.pid as number);
      bridgeSaturated = await drive(SECONDS, throughBridge(bridgePool, application));
      bridgeSaturated.cpuMs = cpuMs(bridge.child.pid as number) - cpuBefore;
      rssMb = peakRssMb(bridge.child.pid as number);
    } finally {
      await bridgePool.close();
      await stop(bridge.child);
    }

    const direct = await directCalls(adapter, stub.env, stub.application, CONNECTIONS);
    await drive(WARMUP_SECONDS, throughFloor(direct));
    const floorPaced = await drive(SECONDS, throughFloor(direct), pacedRate(adapter));
    const floorSaturated = await drive(SECONDS, throughFloor(direct));
    await direct.close();

    return {
      adapter,
      calls,
      paced: { bridge: bridgePaced, floor: floorPaced },
      saturated: { bridge: bridgeSaturated, floor: floorSaturated },
      rssMb,
      startMs: percentile(starts, 50),
    };
  } finally {
    await stop(stub.child);
  }
}

function report(figures: AdapterFigures[]): string {
  const lines = [
    `dcr-bridge benchmark: ${CONNECTIONS} connections, ${SECONDS} s per run, paced at ${PACED_CYCLES_PER_SECOND} cycles/s (${PACED_CYCLES_PER_SECOND * 4} operations/s), loopback, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    'cycle: create → new-secret → update_application → delete; floor: the same IdP calls made straight at the stub',
    '',
    '| adapter | IdP calls create / rotate / update / delete | cycles/s saturated (floor) | bridge CPU per cycle | peak RSS | start → first answer | errors |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of figures) {
    const errors = f.paced.bridge.errors + f.saturated.bridge.errors;
    lines.push(
      `| ${f.adapter} | ${OPS.map((op) => f.calls[op]).join(' / ')} | ${(f.saturated.bridge.cycles / SECONDS).toFixed(0)} (${(f.saturated.floor.cycles / SECONDS).toFixed(0)}) | ${perCycle(f.saturated.bridge)} | ${f.rssMb.toFixed(0)} MB | ${f.startMs.toFixed(0)} ms | ${errors}${errors ? ` (${f.paced.bridge.firstError ?? f.saturated.bridge.firstError})` : ''} |`,
    );
  }
  lines.push(
    '',
    `Paced latency, ms (cognito at ${pacedRate('cognito')} cycles/s): bridge p50 / p99 (floor p50 / p99) → added p50 / p99`,
    '',
    '| adapter | create | new-secret | update_application | delete |',
    '|---|---|---|---|---|',
  );
  for (const f of figures) {
    const cell = (op: Op) => {
      const [b50, b99, f50, f99] = [
        percentile(f.paced.bridge.latencies[op], 50),
        percentile(f.paced.bridge.latencies[op], 99),
        percentile(f.paced.floor.latencies[op], 50),
        percentile(f.paced.floor.latencies[op], 99),
      ];
      return `${ms(b50)} / ${ms(b99)} (${ms(f50)} / ${ms(f99)}) → ${ms(b50 - f50)} / ${ms(b99 - f99)}`;
    };
    lines.push(`| ${f.adapter} | ${OPS.map(cell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** One bridge of the side by side: this one (with a variant's settings) or Kong's example. */
interface Contender {
  label: string;
  start(stub: Stub, storeDir: string): Promise<{ child: ChildProcess; url: string; startMs: number }>;
  /** Ours: has /metrics with the journal's counters. */
  journaled: boolean;
}

interface ContenderRound {
  startMs: number;
  idleRssMb: number;
  peakRssMb: number;
  paced: Run;
  equal: Run;
  full: Run;
  /** Durable journal writes and syncs per operation, one cycle at a time (ours only). */
  durable?: Record<'create' | 'rotate' | 'delete', { writes: number; syncs: number }>;
  /** Journal syncs per equal-work cycle under saturation: fewer than the writes when the group commit shares them. */
  syncsPerCycle?: number;
  writesPerCycle?: number;
  /** The Okta stub's share of an equal-work cycle under saturation: its requests (token requests aside) and its CPU. */
  stubPerCycle: { requests: number; cpuMs: number };
}

function currentRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** The journal's durable writes (sets) and its syncs so far, from the bridge's /metrics. */
async function journalCounters(url: string): Promise<{ writes: number; syncs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (store: string, operation: string) =>
    text
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('dcr_bridge_store_operations_total{') &&
          line.includes(`store="${store}"`) &&
          line.includes(`operation="${operation}"`),
      )
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { writes: sum('json', 'set'), syncs: sum('journal-file', 'sync') };
}

/** Durable writes and syncs per operation, over sequential equal-work cycles (nothing to share a sync with). */
async function countDurable(url: string, application: string): Promise<NonNullable<ContenderRound['durable']>> {
  const pool = new Pool(url, { connections: 1 });
  const totals = { create: { writes: 0, syncs: 0 }, rotate: { writes: 0, syncs: 0 }, delete: { writes: 0, syncs: 0 } };
  let mark = await journalCounters(url);
  const time: Timer = async (op, work) => {
    await work();
    // The delete of a create's or rotation's entry follows its answer: let it land before reading.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = await journalCounters(url);
    const total = totals[op as keyof typeof totals];
    total.writes += now.writes - mark.writes;
    total.syncs += now.syncs - mark.syncs;
    mark = now;
  };
  const cycles = 10;
  for (let i = 0; i < cycles; i++) await throughBridge(pool, application, { update: false })(time);
  await pool.close();
  for (const total of Object.values(totals)) {
    total.writes /= cycles;
    total.syncs /= cycles;
  }
  return totals;
}

async function runContender(contender: Contender, stub: Stub, storeDir: string, application: string): Promise<ContenderRound> {
  const started = await contender.start(stub, storeDir);
  const pid = started.child.pid as number;
  const pool = new Pool(started.url, { connections: CONNECTIONS, pipelining: 1 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idleRssMb = currentRssMb(pid);
    const durable = contender.journaled ? await countDurable(started.url, application) : undefined;
    await drive(WARMUP_SECONDS, throughBridge(pool, application));
    const paced = await drive(SECONDS, throughBridge(pool, application, { update: false }), PACED_CYCLES_PER_SECOND);
    const before = contender.journaled ? await journalCounters(started.url) : undefined;
    const cpuBefore = cpuMs(pid);
    const stubBefore = { cpuMs: cpuMs(stub.child.pid as number), requests: (await stubRequests(stub, Number.MAX_SAFE_INTEGER)).total };
    const equal = await drive(SECONDS, throughBridge(pool, application, { update: false }));
    equal.cpuMs = cpuMs(pid) - cpuBefore;
    const stubPerCycle = {
      cpuMs: (cpuMs(stub.child.pid as number) - stubBefore.cpuMs) / equal.cycles,
      requests: (await stubRequests(stub, stubBefore.requests)).admin / equal.cycles,
    };
    const after = contender.journaled ? await journalCounters(started.url) : undefined;
    const full = await drive(SECONDS, throughBridge(pool, application));
    return {
      startMs: started.startMs,
      idleRssMb,
      peakRssMb: peakRssMb(pid),
      paced,
      equal,
      full,
      durable,
      stubPerCycle,
      ...(before && after && equal.cycles > 0
        ? { syncsPerCycle: (after.syncs - before.syncs) / equal.cycles, writesPerCycle: (after.writes - before.writes) / equal.cycles }
        : {}),
    };
  } finally {
    await pool.close();
    await stop(started.child);
  }
}

/** `--variant label:KEY=value,KEY=value`: the bridge with these settings added to its environment. */
function parseVariant(text: string): Contender {
  const colon = text.indexOf(':');
  const label = colon < 0 ? text : text.slice(0, colon);
  const env = Object.fromEntries(
    (colon < 0 ? '' : text.slice(colon + 1))
      .split(',')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  return { label, journaled: true, start: (stub, storeDir) => startBridge(stub, storeDir, env) };
}

/** The okta side by side (see the header): every contender `ROUNDS` times, in turn. */
async function beside(storeDir: string): Promise<Array<{ contender: Contender; rounds: ContenderRound[] }>> {
  const contenders: Contender[] = [
    { label: 'dcr-bridge okta', journaled: true, start: (stub, dir) => startBridge(stub, dir) },
    ...(values.variant ?? []).map(parseVariant),
  ];
  if (values.kong) {
    const app = kongApp(values.kong);
    contenders.unshift({ label: "Kong's example", journaled: false, start: (stub) => startKong(app, stub) });
  }
  const stub = await startStub('okta');
  try {
    const application = JSON.stringify(konnectApplication({ client_name: 'Bench app', redirect_uris: ['https://app.example.com/cb'] }));
    const results = contenders.map((contender) => ({ contender, rounds: [] as ContenderRound[] }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const result of results) {
        process.stderr.write(`bench: beside, round ${round + 1}, ${result.contender.label}…\n`);
        result.rounds.push(await runContender(result.contender, stub, storeDir, application));
      }
    }
    return results;
  } finally {
    await stop(stub.child);
  }
}

function besideReport(results: Array<{ contender: Contender; rounds: ContenderRound[] }>): string {
  const rate = (run: Run) => run.cycles / run.seconds;
  const median = (values: number[]) => percentile(values, 50);
  const perRound = (rounds: ContenderRound[], value: (round: ContenderRound) => number, digits = 0) =>
    rounds.map((round) => value(round).toFixed(digits)).join(' / ');
  // Beside the first contender (Kong's example, when given): the ratio of the medians.
  const ratio = (rounds: ContenderRound[], value: (round: ContenderRound) => number) =>
    rounds === results[0]?.rounds ? '' : ` (${(median(rounds.map(value)) / median((results[0]?.rounds ?? []).map(value))).toFixed(2)}×)`;
  const loads = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const rows: Array<[string, (rounds: ContenderRound[]) => string]> = [
    [
      'create + new-secret + delete, cycles/s saturated, per round',
      (rounds) => `${perRound(rounds, (r) => rate(r.equal))}${ratio(rounds, (r) => rate(r.equal))}`,
    ],
    [
      'full cycle (with update_application), cycles/s saturated, per round',
      (rounds) => `${perRound(rounds, (r) => rate(r.full))}${ratio(rounds, (r) => rate(r.full))}`,
    ],
    [
      'p50 create / new-secret / delete, saturated, ms',
      (rounds) =>
        (['create', 'rotate', 'delete'] as const)
          .map((op) => ms(median(rounds.map((r) => percentile(r.equal.latencies[op], 50)))))
          .join(' / '),
    ],
    ['p99 create, saturated, ms', (rounds) => ms(median(rounds.map((r) => percentile(r.equal.latencies.create, 99))))],
    [
      `p50 / p99 create at ${PACED_CYCLES_PER_SECOND} cycles/s, ms`,
      (rounds) =>
        `${ms(median(rounds.map((r) => percentile(r.paced.latencies.create, 50))))} / ${ms(median(rounds.map((r) => percentile(r.paced.latencies.create, 99))))}`,
    ],
    ['CPU per equal-work cycle, saturated', (rounds) => `${ms(median(rounds.map((r) => (r.equal.cpuMs ?? NaN) / r.equal.cycles)))} ms`],
    [
      'Okta stub per equal-work cycle, saturated: requests / CPU',
      (rounds) =>
        `${median(rounds.map((r) => r.stubPerCycle.requests)).toFixed(1)} / ${ms(median(rounds.map((r) => r.stubPerCycle.cpuMs)))} ms`,
    ],
    [
      'idle / peak RSS, MB',
      (rounds) => `${median(rounds.map((r) => r.idleRssMb)).toFixed(0)} / ${median(rounds.map((r) => r.peakRssMb)).toFixed(0)}`,
    ],
    ['start → first answer, ms', (rounds) => median(rounds.map((r) => r.startMs)).toFixed(0)],
    [
      'durable journal writes (syncs) per create / new-secret / delete, one at a time',
      (rounds) => {
        const durable = rounds[0]?.durable;
        if (!durable) return '–';
        return (['create', 'rotate', 'delete'] as const)
          .map((op) => `${durable[op].writes.toFixed(1)} (${durable[op].syncs.toFixed(1)})`)
          .join(' / ');
      },
    ],
    [
      'journal writes / syncs per equal-work cycle, saturated',
      (rounds) =>
        rounds[0]?.syncsPerCycle === undefined
          ? '–'
          : `${median(rounds.map((r) => r.writesPerCycle ?? NaN)).toFixed(2)} / ${median(rounds.map((r) => r.syncsPerCycle ?? NaN)).toFixed(2)}`,
    ],
    [
      'errors',
      (rounds) => {
        const runs = rounds.flatMap((r) => [r.paced, r.equal, r.full]);
        const errors = runs.reduce((total, run) => total + run.errors, 0);
        return errors ? `${errors} (${runs.find((run) => run.firstError)?.firstError})` : '0';
      },
    ],
  ];
  return [
    `okta side by side, one Okta stub: ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds in turn, load average ${loads} (1/5/15 min, at the end) on ${cpus().length} cores`,
    '',
    `| | ${results.map((result) => result.contender.label).join(' | ')} |`,
    `|---|${results.map(() => '---|').join('')}`,
    ...rows.map(([name, cell]) => `| ${name} | ${results.map((result) => cell(result.rounds)).join(' | ')} |`),
    '',
  ].join('\n');
}

async function main() {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run the build first (pnpm bench does).`);
  // BENCH_STORE_DIR=/dev/shm puts the store on tmpfs, to tell the disk's fsync cost from the bridge's own.
  const storeDir = mkdtempSync(join(process.env.BENCH_STORE_DIR ?? tmpdir(), 'dcr-bench-'));
  const figures: AdapterFigures[] = [];
  let side: Awaited<ReturnType<typeof beside>>;
  try {
    for (const adapter of ADAPTERS) {
      process.stderr.write(`bench: ${adapter}…\n`);
      figures.push(await benchAdapter(adapter, storeDir));
    }
    side = await beside(storeDir);
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
  if (figures.length > 0) process.stdout.write(`${report(figures)}\n`);
  process.stdout.write(besideReport(side));
  if (!values['skip-lambda']) process.stdout.write(`\n${await benchLambda({ coldStarts: 10, cycles: 500 })}`);
}

await main();
