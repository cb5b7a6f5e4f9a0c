import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

/**
 * `pnpm bench`: what the bridge adds on top of an IdP. A minimal in-memory RFC 7591/7592 stub IdP runs in
 * its own process; the built bridge (`node dist/bin.js`, as in production) runs in another with the
 * rfc7591 adapter pointed at the stub. 50 connections drive create → rotate → delete cycles through the
 * bridge for a fixed time, then drive the very IdP calls each of those operations makes (create: POST;
 * rotate: GET + PUT; delete: DELETE) straight at the stub. Everything stays on 127.0.0.1, bounded in time.
 * Prints throughput, p50/p99 per operation, the bridge's added latency, its peak RSS and its start time.
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** The paced runs: cycles per second over all connections (3 operations each). */
const PACED_CYCLES_PER_SECOND = Number(process.env.BENCH_PACED_RATE ?? 100);
const WARMUP_SECONDS = 2;
const TARGETS = { addedP50Ms: 1, rssMb: 100, startMs: 300 };

const serverDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(serverDir, 'dist', 'bin.js');
const apiKey = 'bench_api_key_0123456789';
type Op = 'create' | 'rotate' | 'delete';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function startStub(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(serverDir, 'bench', 'stub-idp.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout?.once('data', (chunk) => resolve({ child, url: `http://127.0.0.1:${String(chunk).trim()}` })));
}

async function startBridge(stubUrl: string, storeDir: string): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), bin], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DCR_BRIDGE_ADAPTER: 'rfc7591',
      DCR_BRIDGE_API_KEYS: apiKey,
      RFC7591_REGISTRATION_ENDPOINT: `${stubUrl}/reg`,
      RFC7591_ALLOW_INSECURE_HTTP: 'true',
      DCR_BRIDGE_STORE: join(storeDir, `state-${port}.sqlite`),
      DCR_BRIDGE_STORE_KEY: randomBytes(32).toString('base64'),
    },
  });
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then((res) => res.ok, () => false);
    if (ok) return { child, url, startMs: performance.now() - started };
    if (performance.now() - started > 15_000) throw new Error('the bridge did not start in 15 s');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const application = JSON.stringify({
  client_name: 'Bench app',
  application_description: '',
  redirect_uris: ['https://app.example.com/cb'],
  grant_types: ['client_credentials'],
  scopes: [],
  token_endpoint_auth_method: 'client_secret_post',
  portal_id: 'p',
  organization_id: 'o',
  developer_id: 'd',
  auth_strategy_id: 'a',
  dcr_provider_id: 'x',
});

interface Run {
  latencies: Record<Op, number[]>;
  errors: number;
  seconds: number;
}

/** One cycle per loop and connection; each operation timed from its first request to its last answer. */
async function drive(origin: string, seconds: number, cycle: (pool: Pool, time: (op: Op, work: () => Promise<void>) => Promise<void>) => Promise<void>, cyclesPerSecond?: number): Promise<Run> {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
  const run: Run = { latencies: { create: [], rotate: [], delete: [] }, errors: 0, seconds };
  const deadline = performance.now() + seconds * 1000;
  const time = async (op: Op, work: () => Promise<void>) => {
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
        await cycle(pool, time).catch(() => void run.errors++);
      }
    }),
  );
  await pool.close();
  return run;
}

async function json(response: Awaited<ReturnType<Pool['request']>>, expected: number): Promise<Record<string, string>> {
  if (response.statusCode !== expected) {
    await response.body.dump();
    throw new Error(`HTTP ${response.statusCode}`);
  }
  return response.statusCode === 204 ? (await response.body.dump(), {}) : ((await response.body.json()) as Record<string, string>);
}

const throughBridge = (pool: Pool, time: (op: Op, work: () => Promise<void>) => Promise<void>) => {
  const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };
  let id = '';
  return time('create', async () => {
    id = (await json(await pool.request({ method: 'POST', path: '/', headers, body: application }), 201)).client_id as string;
  })
    .then(() => time('rotate', async () => void (await json(await pool.request({ method: 'POST', path: `/${id}/new-secret`, headers: { 'x-api-key': apiKey } }), 200))))
    .then(() => time('delete', async () => void (await json(await pool.request({ method: 'DELETE', path: `/${id}`, headers: { 'x-api-key': apiKey } }), 204))));
};

const straightAtStub = (pool: Pool, time: (op: Op, work: () => Promise<void>) => Promise<void>) => {
  let client: Record<string, string> = {};
  const auth = () => ({ authorization: `Bearer ${client.registration_access_token}`, 'content-type': 'application/json' });
  const path = () => `/reg/${client.client_id}`;
  const metadata = { client_name: 'Bench app', redirect_uris: ['https://app.example.com/cb'], grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_post', application_type: 'web' };
  return time('create', async () => {
    client = await json(await pool.request({ method: 'POST', path: '/reg', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) }), 201);
  })
    .then(() =>
      time('rotate', async () => {
        const current = await json(await pool.request({ method: 'GET', path: path(), headers: auth() }), 200);
        const { client_secret: _secret, ...rest } = current;
        client = { ...client, ...(await json(await pool.request({ method: 'PUT', path: path(), headers: auth(), body: JSON.stringify(rest) }), 200)) };
      }),
    )
    .then(() => time('delete', async () => void (await json(await pool.request({ method: 'DELETE', path: path(), headers: auth() }), 204))));
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
};
const ms = (value: number) => `${value.toFixed(2)} ms`;

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function main() {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run the build first (pnpm bench does).`);
  // BENCH_STORE_DIR=/dev/shm puts the store on tmpfs, to tell the disk's fsync cost from the bridge's own.
  const storeDir = mkdtempSync(join(process.env.BENCH_STORE_DIR ?? tmpdir(), 'dcr-bench-'));
  const stub = await startStub();
  try {
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const bridge = await startBridge(stub.url, storeDir);
      starts.push(bridge.startMs);
      await stop(bridge.child);
    }
    const bridge = await startBridge(stub.url, storeDir);
    await drive(bridge.url, WARMUP_SECONDS, throughBridge);
    const bridgePaced = await drive(bridge.url, SECONDS, throughBridge, PACED_CYCLES_PER_SECOND);
    const bridgeSaturated = await drive(bridge.url, SECONDS, throughBridge);
    const rssMb = peakRssMb(bridge.child.pid as number);
    await stop(bridge.child);
    await drive(stub.url, WARMUP_SECONDS, straightAtStub);
    const stubPaced = await drive(stub.url, SECONDS, straightAtStub, PACED_CYCLES_PER_SECOND);
    const stubSaturated = await drive(stub.url, SECONDS, straightAtStub);

    const lines = [`dcr-bridge benchmark: ${CONNECTIONS} connections, ${SECONDS} s per run, loopback, node ${process.version}, store in ${storeDir}`];
    const table = (title: string, bridgeRun: Run, stubRun: Run) => {
      lines.push('', title, 'mode     op       ops/s     p50        p99        errors');
      for (const [mode, run] of [['bridge', bridgeRun], ['stub', stubRun]] as const) {
        for (const op of ['create', 'rotate', 'delete'] as const) {
          const values = run.latencies[op];
          lines.push(`${mode.padEnd(8)} ${op.padEnd(8)} ${(values.length / run.seconds).toFixed(0).padStart(6)}   ${ms(percentile(values, 50)).padStart(9)}  ${ms(percentile(values, 99)).padStart(9)}   ${op === 'create' ? run.errors : ''}`);
        }
      }
      lines.push('added by the bridge (bridge − stub):');
      const added: number[] = [];
      for (const op of ['create', 'rotate', 'delete'] as const) {
        const p50 = percentile(bridgeRun.latencies[op], 50) - percentile(stubRun.latencies[op], 50);
        const p99 = percentile(bridgeRun.latencies[op], 99) - percentile(stubRun.latencies[op], 99);
        added.push(p50);
        lines.push(`  ${op.padEnd(8)} p50 ${ms(p50).padStart(9)}   p99 ${ms(p99).padStart(9)}`);
      }
      return Math.max(...added);
    };
    const worstAdded = table(`paced: ${PACED_CYCLES_PER_SECOND} cycles/s (${PACED_CYCLES_PER_SECOND * 3} operations/s) over ${CONNECTIONS} connections`, bridgePaced, stubPaced);
    table('saturated: every connection as fast as it can (capacity; latency here is queueing)', bridgeSaturated, stubSaturated);
    const startMedian = percentile(starts, 50);
    lines.push('', `bridge peak RSS (after both bridge runs): ${rssMb.toFixed(1)} MB`, `process start → first answered request: median ${ms(startMedian)} (runs: ${starts.map((s) => s.toFixed(0)).join(', ')} ms)`, '');
    lines.push(`target added p50 ≤ ${TARGETS.addedP50Ms} ms (paced, ${CONNECTIONS} connections): ${worstAdded <= TARGETS.addedP50Ms ? 'PASS' : 'FAIL'} (worst operation ${ms(worstAdded)})`);
    lines.push(`target RSS ≤ ${TARGETS.rssMb} MB: ${rssMb <= TARGETS.rssMb ? 'PASS' : 'FAIL'}`);
    lines.push(`target start ≤ ${TARGETS.startMs} ms: ${startMedian <= TARGETS.startMs ? 'PASS' : 'FAIL'}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stop(stub.child);
    rmSync(storeDir, { recursive: true, force: true });
  }
}

await main();
