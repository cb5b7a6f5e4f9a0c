import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
 * `--kong <file>` also runs the okta scenario through Kong's example bridge (its built app.js, which listens
 * on port 3000) against the same Okta stub, for the side-by-side the issue asks for.
 * Everything stays on 127.0.0.1 and ends by itself.
 */
const { values } = parseArgs({
  options: {
    adapters: { type: 'string', default: 'okta,keycloak,pingone,pingfederate,cognito,rfc7591' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    rate: { type: 'string', default: '100' },
    kong: { type: 'string' },
    'node-args': { type: 'string', default: '' },
  },
});
const ADAPTERS = values.adapters.split(',').map((id) => id.trim());
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

async function waitUntilAnswering(url: string, started: number): Promise<number> {
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return performance.now() - started;
    if (performance.now() - started > 20_000) throw new Error(`${url} did not start in 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function startBridge(stub: Stub, storeDir: string): Promise<{ child: ChildProcess; url: string; startMs: number }> {
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
    },
  });
  child.stdout?.resume();
  try {
    return { child, url, startMs: await waitUntilAnswering(url, started) };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

async function startKong(kongApp: string, stub: Stub): Promise<{ child: ChildProcess; url: string }> {
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
      return { child, url };
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

/** A Konnect cycle through a DCR bridge (this one, or Kong's example). */
function throughBridge(pool: Pool, application: string): Cycle {
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
  const seen = async (since: number) =>
    (await (await fetch(`${stub.control}/requests?since=${since}`)).json()) as { total: number; requests: string[] };
  const counts: Record<Op, number[]> = { create: [], rotate: [], update: [], delete: [] };
  let mark = (await seen(0)).total;
  const time: Timer = async (op, work) => {
    await work();
    const log = await seen(mark);
    mark = log.total;
    counts[op].push(log.requests.filter((line) => !isTokenRequest(line)).length);
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
  kong?: { paced: Run; saturated: Run; rssMb: number };
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

    let kong: AdapterFigures['kong'];
    if (adapter === 'okta' && values.kong) {
      const example = await startKong(values.kong, stub);
      const pool = new Pool(example.url, { connections: CONNECTIONS, pipelining: 1 });
      try {
        await drive(WARMUP_SECONDS, throughBridge(pool, application));
        const paced = await drive(SECONDS, throughBridge(pool, application), pacedRate(adapter));
        const cpuBefore = cpuMs(example.child.pid as number);
        const saturated = await drive(SECONDS, throughBridge(pool, application));
        saturated.cpuMs = cpuMs(example.child.pid as number) - cpuBefore;
        kong = { paced, saturated, rssMb: peakRssMb(example.child.pid as number) };
      } finally {
        await pool.close();
        await stop(example.child);
      }
    }
    return {
      adapter,
      calls,
      paced: { bridge: bridgePaced, floor: floorPaced },
      saturated: { bridge: bridgeSaturated, floor: floorSaturated },
      rssMb,
      startMs: percentile(starts, 50),
      kong,
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
  const okta = figures.find((f) => f.kong);
  if (okta?.kong) {
    const k = okta.kong;
    const ours = okta.saturated.bridge.cycles / SECONDS;
    const theirs = k.saturated.cycles / SECONDS;
    lines.push(
      '',
      "okta beside Kong's example bridge, same Okta stub:",
      '',
      "| | Kong's example | dcr-bridge okta |",
      '|---|---|---|',
      `| cycles/s, saturated | ${theirs.toFixed(0)} | ${ours.toFixed(0)} (${(ours / theirs).toFixed(2)}×) |`,
      `| create p50 / p99, paced | ${ms(percentile(k.paced.latencies.create, 50))} / ${ms(percentile(k.paced.latencies.create, 99))} ms | ${ms(percentile(okta.paced.bridge.latencies.create, 50))} / ${ms(percentile(okta.paced.bridge.latencies.create, 99))} ms |`,
      `| saturated p99, create | ${ms(percentile(k.saturated.latencies.create, 99))} ms | ${ms(percentile(okta.saturated.bridge.latencies.create, 99))} ms |`,
      `| CPU per cycle, saturated | ${perCycle(k.saturated)} | ${perCycle(okta.saturated.bridge)} |`,
      `| peak RSS | ${k.rssMb.toFixed(0)} MB | ${okta.rssMb.toFixed(0)} MB |`,
      `| errors | ${k.paced.errors + k.saturated.errors}${k.paced.errors + k.saturated.errors ? ` (${k.paced.firstError ?? k.saturated.firstError})` : ''} | ${okta.paced.bridge.errors + okta.saturated.bridge.errors} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run the build first (pnpm bench does).`);
  // BENCH_STORE_DIR=/dev/shm puts the store on tmpfs, to tell the disk's fsync cost from the bridge's own.
  const storeDir = mkdtempSync(join(process.env.BENCH_STORE_DIR ?? tmpdir(), 'dcr-bench-'));
  const figures: AdapterFigures[] = [];
  try {
    for (const adapter of ADAPTERS) {
      process.stderr.write(`bench: ${adapter}…\n`);
      figures.push(await benchAdapter(adapter, storeDir));
    }
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
  process.stdout.write(report(figures));
  process.stdout.write(`\n${await benchLambda({ coldStarts: 10, cycles: 500 })}`);
}

await main();
