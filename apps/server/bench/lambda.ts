import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { konnectApplication, konnectEvent } from '@dcr-bridge/conformance';
import { silentLogger } from '@dcr-bridge/core';
import { createLambdaHandler } from '../src/lambda.js';
import { answerOf, lambdaEvent, type KonnectCall, type LambdaRoute } from '../test/fixtures/lambda/events.js';
import { directCalls } from './direct.js';

/**
 * `pnpm --filter @dcr-bridge/server bench:lambda`: the AWS Lambda entry point against the Okta stub of
 * `pnpm bench` (bench/stub.ts, in a process of its own), with the okta adapter.
 * - cold start: a fresh `node` process per run, as Lambda starts one, with AWS_LAMBDA_FUNCTION_NAME set (the
 *   bridge is built while the module loads, as on Lambda): process start → the module loaded → the first
 *   answer (a Konnect create, 201), from the built `dist/lambda.js`; median and max over the runs, and the
 *   process's peak RSS;
 * - warm invocations: one handler, invoked in this process one event at a time (one Lambda instance serves
 *   one invocation at a time), Konnect cycles create → new-secret → update_application → delete; p50/p99 of
 *   each, beside the same IdP calls made straight at the stub (bench/direct.ts: the floor).
 * `pnpm bench` prints these figures after its own (bench/run.ts).
 */
export interface LambdaBenchOptions {
  coldStarts: number;
  cycles: number;
}

const serverDir = fileURLToPath(new URL('..', import.meta.url));
const builtHandler = join(serverDir, 'dist', 'lambda.js');
const apiKey = 'bench_api_key_0123456789';
const route: LambdaRoute = { kind: 'http', stage: '$default', apiBase: '/' };
const WARMUP_CYCLES = 50;
const OPS = ['create', 'rotate', 'update', 'delete'] as const;
type Op = (typeof OPS)[number];

interface Stub {
  child: ChildProcess;
  env: Record<string, string>;
  application: Record<string, unknown>;
}

function startStub(): Promise<Stub> {
  const child = spawn(
    process.execPath,
    ['--conditions=@dcr-bridge/source', '--import', 'tsx', join(serverDir, 'bench', 'stub.ts'), 'okta'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`the okta stub exited (${code})`)));
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('\n')) return;
      child.removeAllListeners('exit');
      resolve({ child, ...(JSON.parse(out.slice(0, out.indexOf('\n'))) as Omit<Stub, 'child'>) });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** What one cold start measured, in ms from the process's start (performance.timeOrigin). */
interface ColdStart {
  nodeReadyMs: number;
  loadedMs: number;
  answeredMs: number;
  /** CPU time (user + system) from process start to the first answer. */
  cpuMs: number;
  status: number;
  peakRssMb: number;
}

/** The child: import the built handler, invoke it once, report. Plain node, as the Lambda runtime loads it. */
const COLD_START_CHILD = `
const nodeReadyMs = performance.now();
const { handler } = await import(process.env.BENCH_HANDLER);
const loadedMs = performance.now();
const result = await handler(JSON.parse(process.env.BENCH_EVENT), { getRemainingTimeInMillis: () => 15000 });
const answeredMs = performance.now();
const cpu = process.cpuUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
const peakRssMb = Number(/VmHWM:\\s+(\\d+)/.exec(await import('node:fs').then((fs) => fs.readFileSync('/proc/self/status', 'utf8')))?.[1] ?? 0) / 1024;
process.stdout.write(JSON.stringify({ nodeReadyMs, loadedMs, answeredMs, cpuMs, status: result.statusCode, peakRssMb }) + '\\n');
process.exit(0);
`;

function coldStart(stub: Stub, journal: string): Promise<ColdStart> {
  const event = lambdaEvent(route, { method: 'POST', suffix: '/', body: konnectApplication(stub.application), apiKey });
  const child = spawn(process.execPath, ['--input-type=module', '-e', COLD_START_CHILD], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH,
      ...stub.env,
      AWS_LAMBDA_FUNCTION_NAME: 'dcr-bridge-bench',
      DCR_BRIDGE_API_KEYS: apiKey,
      DCR_BRIDGE_JOURNAL: journal,
      DCR_BRIDGE_LOG_LEVEL: 'error',
      BENCH_HANDLER: pathToFileURL(builtHandler).href,
      BENCH_EVENT: JSON.stringify(event),
    },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => {
      const line = out.split('\n').find((text) => text.startsWith('{"nodeReadyMs"'));
      if (code !== 0 || !line) return reject(new Error(`a cold start exited ${code}: ${out.slice(0, 300)}`));
      resolve(JSON.parse(line) as ColdStart);
    });
  });
}

type Latencies = Record<Op, number[]>;

async function warmInvocations(stub: Stub, journal: string, cycles: number): Promise<Latencies> {
  const handler = createLambdaHandler(
    { ...stub.env, AWS_LAMBDA_FUNCTION_NAME: 'dcr-bridge-bench', DCR_BRIDGE_API_KEYS: apiKey, DCR_BRIDGE_JOURNAL: journal },
    { logger: silentLogger },
  );
  const latencies: Latencies = { create: [], rotate: [], update: [], delete: [] };
  const invoke = async (op: Op, call: Omit<KonnectCall, 'apiKey'>, expected: number, record: boolean) => {
    const event = lambdaEvent(route, { ...call, apiKey });
    const started = performance.now();
    const answer = answerOf(await handler(event));
    const elapsed = performance.now() - started;
    if (answer.status !== expected) throw new Error(`${op}: ${answer.status} ${JSON.stringify(answer.body)}`);
    if (record) latencies[op].push(elapsed);
    return answer;
  };
  for (let cycle = 0; cycle < WARMUP_CYCLES + cycles; cycle++) {
    const record = cycle >= WARMUP_CYCLES;
    const created = await invoke('create', { method: 'POST', suffix: '/', body: konnectApplication(stub.application) }, 201, record);
    const id = created.body?.client_id as string;
    await invoke('rotate', { method: 'POST', suffix: `/${id}/new-secret` }, 200, record);
    await invoke(
      'update',
      {
        method: 'POST',
        suffix: `/${id}/event-hook`,
        body: konnectEvent(id, {
          event_type: 'update_application',
          redirect_uris: ['https://app.example.com/cb', 'https://app.example.com/cb2'],
        }),
      },
      200,
      record,
    );
    await invoke('delete', { method: 'DELETE', suffix: `/${id}` }, 204, record);
  }
  return latencies;
}

async function floor(stub: Stub, cycles: number): Promise<Latencies> {
  const direct = await directCalls('okta', stub.env, stub.application, 1);
  const latencies: Latencies = { create: [], rotate: [], update: [], delete: [] };
  const time = async <T>(op: Op, record: boolean, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    if (record) latencies[op].push(performance.now() - started);
    return result;
  };
  try {
    for (let cycle = 0; cycle < WARMUP_CYCLES + cycles; cycle++) {
      const record = cycle >= WARMUP_CYCLES;
      const client = await time('create', record, () => direct.create());
      await time('rotate', record, () => direct.rotate(client));
      await time('update', record, () => direct.update(client, ['https://app.example.com/cb', 'https://app.example.com/cb2']));
      await time('delete', record, () => direct.delete(client));
    }
  } finally {
    await direct.close();
  }
  return latencies;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const ms = (value: number) => value.toFixed(value < 10 ? 2 : 0);

export async function benchLambda(options: LambdaBenchOptions): Promise<string> {
  if (!existsSync(builtHandler))
    throw new Error(`${builtHandler} is missing: build first (pnpm --filter @dcr-bridge/server build; pnpm bench does).`);
  const directory = mkdtempSync(join(tmpdir(), 'dcr-bench-lambda-'));
  const stub = await startStub();
  try {
    const starts: ColdStart[] = [];
    for (let run = 0; run < options.coldStarts; run++) starts.push(await coldStart(stub, join(directory, `cold-${run}.journal`)));
    const failed = starts.filter((start) => start.status !== 201);
    if (failed.length > 0)
      throw new Error(`${failed.length} cold starts did not answer 201 (got ${failed.map((start) => start.status).join(', ')})`);
    const warm = await warmInvocations(stub, join(directory, 'warm.journal'), options.cycles);
    const direct = await floor(stub, options.cycles);
    const column = (pick: (start: ColdStart) => number) => `${ms(percentile(starts.map(pick), 50))} / ${ms(Math.max(...starts.map(pick)))}`;
    return [
      `AWS Lambda entry point (okta, Okta stub): node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
      '',
      `Cold start, ${options.coldStarts} fresh processes (dist/lambda.js; the first invocation is a create), ms from process start, median / max:`,
      '',
      '| node ready | module loaded | first answer (201) | CPU time to the first answer | peak RSS |',
      '|---|---|---|---|---|',
      `| ${column((start) => start.nodeReadyMs)} | ${column((start) => start.loadedMs)} | ${column((start) => start.answeredMs)} | ${column((start) => start.cpuMs)} | ${column((start) => start.peakRssMb)} MB |`,
      '',
      `Warm invocations, one at a time, ${options.cycles} cycles after ${WARMUP_CYCLES} of warm-up, ms: handler p50 / p99 (floor p50 / p99)`,
      '',
      '| create | new-secret | update_application | delete |',
      '|---|---|---|---|',
      `| ${OPS.map((op) => `${ms(percentile(warm[op], 50))} / ${ms(percentile(warm[op], 99))} (${ms(percentile(direct[op], 50))} / ${ms(percentile(direct[op], 99))})`).join(' | ')} |`,
      '',
    ].join('\n');
  } finally {
    await stop(stub.child);
    rmSync(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { 'cold-starts': { type: 'string', default: '10' }, cycles: { type: 'string', default: '500' } },
  });
  process.stdout.write(await benchLambda({ coldStarts: Number(values['cold-starts']), cycles: Number(values.cycles) }));
  // The okta adapter's HTTP pool keeps idle connections to the stub: nothing else is left to do.
  process.exit(0);
}
