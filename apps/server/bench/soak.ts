import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { auditLedger, createLedger, runKonnectLoad, type Call, type KonnectLedger } from '@dcr-bridge/conformance';
import { idpTargets, soakOnlyTargets, type IdpTarget } from '../test/idp-targets.js';
import { runBridgeProcess, type BridgeProcess } from '../test/process.js';

/** Every adapter's IdP: the server tests' targets and the soak-only ones. */
const targets: Record<string, () => Promise<IdpTarget>> = { ...idpTargets, ...soakOnlyTargets };

/**
 * `pnpm soak`: the fault suite's long form, on the real server process, for every adapter.
 *
 * 1. Faults: `--operations` Konnect operations (creates, rotations, update_application, deletes; 8 at a
 *    time) while 20 % of the IdP's requests get a fault of every kind of the conformance kit; then, faults
 *    off, the bridge's background cleanup drains (the time is reported) and the ledger of what Konnect was
 *    told is audited against the IdP.
 * 2. Crashes: `--kills` times, the process is killed with SIGKILL under load (creates held at the IdP so
 *    that some are in flight) and restarted on the same store file; after its recovery, orphans are counted.
 *
 * Profiles: `real` (default) keeps the server's defaults (answer due at 9 s, IdP work finished within
 * 30 s) and holds faulted requests 6.5–11 s, straddling Konnect's budget; `fast` scales every time by
 * about 1/7 for a quick run. Prints one table (Markdown) and exits 1 when a promise was broken.
 */
const { values } = parseArgs({
  options: {
    adapters: { type: 'string', default: Object.keys(targets).join(',') },
    operations: { type: 'string', default: '1000' },
    kills: { type: 'string', default: '5' },
    profile: { type: 'string', default: 'real' },
    seed: { type: 'string' },
  },
});

const PROFILES = {
  real: {
    operationTimeoutMs: 9_000,
    completionTimeoutMs: 30_000,
    faultDelayMs: [6_500, 11_000] as const,
    createHoldMs: [1_000, 6_000] as const,
  },
  fast: { operationTimeoutMs: 1_200, completionTimeoutMs: 5_000, faultDelayMs: [800, 2_000] as const, createHoldMs: [100, 600] as const },
};
const profile = PROFILES[values.profile as keyof typeof PROFILES];
if (!profile) throw new Error(`--profile must be one of ${Object.keys(PROFILES).join(', ')}`);
const adapters = values.adapters.split(',').map((id) => id.trim());
for (const id of adapters) if (!(id in targets)) throw new Error(`unknown adapter ${id}; known: ${Object.keys(targets).join(', ')}`);
const operations = Number(values.operations);
const kills = Number(values.kills);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const apiKey = 'soak_api_key_0123456789';
const CONCURRENCY = 8;

interface Figures {
  adapter: string;
  faultsInjected: number;
  orphans: number;
  zombies: number;
  resurrected: number;
  unmanageable: number;
  missing: number;
  /** Clients whose last secret Konnect received is refused at the IdP (failed rotations included). */
  konnectRefused: string;
  killKonnectRefused: string;
  rotationMode: string;
  slow: number;
  badErrors: number;
  drainSeconds: number;
  restarts: string;
  inFlightAtKills: number;
  killOrphans: number;
  killKept: number;
}

function callOn(bridge: () => BridgeProcess): Call {
  return async (method, path, options = {}) => {
    const res = await fetch(`${bridge().url}${path}`, {
      method,
      headers: { 'x-api-key': apiKey, ...(options.body ? { 'content-type': 'application/json' } : {}) },
      body: options.body ? JSON.stringify(options.body) : undefined,
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: res.status, headers: res.headers, body };
  };
}

/** Waits until the IdP's client count has not changed for `quietMs`: the bridge's background cleanup is done. */
async function drained(target: IdpTarget, quietMs: number, limitMs: number): Promise<number> {
  const started = performance.now();
  let last = await target.countClients();
  let since = performance.now();
  while (performance.now() - since < quietMs && performance.now() - started < limitMs) {
    await sleep(500);
    const now = await target.countClients();
    if (now !== last) [last, since] = [now, performance.now()];
  }
  return Math.round((since - started) / 100) / 10;
}

/** The adapter's rotation mode, from the server's `listening` line. */
function modeOf(bridge: BridgeProcess): string | undefined {
  const line = bridge
    .stdout()
    .split('\n')
    .find((candidate) => candidate.includes('"msg":"listening"'));
  return line ? (JSON.parse(line) as { rotation?: string }).rotation : undefined;
}

function recoveryLine(bridge: BridgeProcess): Record<string, number> | undefined {
  const line = bridge
    .stdout()
    .split('\n')
    .find((candidate) => candidate.includes('"msg":"recovered the creates a previous process left open"'));
  return line ? (JSON.parse(line) as Record<string, number>) : undefined;
}

async function soak(id: string): Promise<Figures> {
  const target = await (targets[id] as () => Promise<IdpTarget>)();
  const dir = mkdtempSync(join(tmpdir(), `dcr-soak-${id}-`));
  const env = {
    ...target.env,
    DCR_BRIDGE_API_KEYS: apiKey,
    DCR_BRIDGE_STORE: join(dir, 'dcr-bridge.sqlite'),
    DCR_BRIDGE_JOURNAL: join(dir, 'dcr-bridge.journal'),
    DCR_BRIDGE_OPERATION_TIMEOUT_MS: String(profile.operationTimeoutMs),
    DCR_BRIDGE_COMPLETION_TIMEOUT_MS: String(profile.completionTimeoutMs),
    // The vault: a restore adapter keeps the secret Konnect holds sealed with it while a rotation may change it.
    DCR_BRIDGE_STORE_KEY: randomBytes(32).toString('base64'),
  };
  let bridge = await runBridgeProcess(env);
  const call = callOn(() => bridge);
  try {
    const faults = target.faults;
    if (!faults) throw new Error(`${id}: the IdP target has no fault layer`);

    // 1. Faults.
    const baseline = await target.countClients();
    faults.injectFaults({ rate: 0.2, delayMs: profile.faultDelayMs, seed });
    const ledger = await runKonnectLoad({
      call,
      operations,
      concurrency: CONCURRENCY,
      application: target.application,
      budgetMs: 10_000,
      seed,
    });
    faults.injectFaults(undefined);
    await faults.settle();
    const drainSeconds = await drained(target, 5_000, 10 * profile.completionTimeoutMs);
    const audit = await auditLedger(ledger, target, call, baseline);

    // 2. Crashes: creates held at the IdP so that some are in flight at each kill.
    const { method, path } = target.createPath;
    faults.injectFaults({
      rate: 1,
      kinds: ['held_then_processed'],
      delayMs: profile.createHoldMs,
      match: (m, p) => m === method && path.test(p),
    });
    let restarted = 0;
    let inFlightAtKills = 0;
    let killOrphans = 0;
    let killKept = 0;
    let killKonnectRefused = 0;
    let killHeld = 0;
    for (let kill = 0; kill < kills; kill++) {
      const before = await target.countClients();
      const stop = new AbortController();
      const crashLedger: KonnectLedger = createLedger();
      const load = runKonnectLoad(
        {
          call,
          operations: Number.MAX_SAFE_INTEGER,
          concurrency: CONCURRENCY,
          application: target.application,
          signal: stop.signal,
          seed: seed + kill,
        },
        crashLedger,
      );
      await sleep(Math.max(1_000, profile.createHoldMs[1] * 2));
      stop.abort();
      bridge.child.kill('SIGKILL');
      await bridge.exited;
      await load;
      inFlightAtKills += crashLedger.unanswered;
      bridge = await runBridgeProcess(env);
      restarted++;
      await faults.settle();
      const limit = performance.now() + profile.completionTimeoutMs * 4;
      while (!recoveryLine(bridge) && performance.now() < limit) await sleep(250);
      killKept += recoveryLine(bridge)?.kept ?? 0;
      await drained(target, 2_000, profile.completionTimeoutMs * 4);
      const crashAudit = await auditLedger(crashLedger, target, call, before);
      killOrphans += crashAudit.orphans;
      killKonnectRefused += crashAudit.konnectSecretRefused;
      killHeld += crashLedger.received.size;
    }
    faults.injectFaults(undefined);

    return {
      adapter: id,
      faultsInjected: faults.faults.length,
      orphans: audit.orphans,
      zombies: audit.zombies,
      resurrected: audit.resurrectedSecrets,
      unmanageable: audit.unmanageable,
      missing: audit.missing + audit.deadSecrets,
      konnectRefused: `${audit.konnectSecretRefused} of ${ledger.received.size}`,
      killKonnectRefused: `${killKonnectRefused} of ${killHeld}`,
      rotationMode: modeOf(bridge) ?? 'unknown',
      slow: audit.slowAnswers,
      badErrors: audit.badErrors,
      drainSeconds,
      restarts: `${restarted} of ${kills}`,
      inFlightAtKills,
      killOrphans,
      killKept,
    };
  } finally {
    await bridge.stop('SIGKILL');
    target.faults?.injectFaults(undefined);
    await target.faults?.settle();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Figures[] = [];
for (const id of adapters) {
  process.stderr.write(`soaking ${id} (${operations} operations, ${kills} kills, profile ${values.profile}, seed ${seed})…\n`);
  results.push(await soak(id));
}

const rows: Array<[string, (figures: Figures) => string | number]> = [
  ['faults injected (load and kills)', (f) => f.faultsInjected],
  ['orphans: clients at the IdP Konnect was told failed', (f) => f.orphans],
  ['zombies: delete answered 204, client still there', (f) => f.zombies],
  ['rotated-away secrets that work again', (f) => f.resurrected],
  ['clients the bridge can no longer rotate or delete', (f) => f.unmanageable],
  ['clients or secrets Konnect holds that stopped working', (f) => f.missing],
  ["Konnect's secret refused at the IdP (last one it received, failed rotations included)", (f) => f.konnectRefused],
  ['… rotation mode (two-secrets and restore must show 0)', (f) => f.rotationMode],
  ['answers slower than 10 s', (f) => f.slow],
  ['error answers that are not {error, error_description}', (f) => f.badErrors],
  ['cleanup drained after (s)', (f) => f.drainSeconds],
  [`restarts after kill -9 that came up by themselves`, (f) => f.restarts],
  ['… creates in flight at the kills', (f) => f.inFlightAtKills],
  ['… orphans after recovery (of which kept and logged as answering)', (f) => `${f.killOrphans} (${f.killKept})`],
  ["… Konnect's secret refused after the kills", (f) => f.killKonnectRefused],
];
const lines = [
  `| per ${operations} faulted operations, 20 % faults (${values.profile} profile, seed ${seed}) | ${results.map((figures) => figures.adapter).join(' | ')} |`,
  `|---|${results.map(() => '---').join('|')}|`,
  ...rows.map(([label, value]) => `| ${label} | ${results.map(value).join(' | ')} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const broken = results.some(
  (f) =>
    f.zombies + f.resurrected + f.missing + f.slow + f.badErrors > 0 ||
    f.restarts !== `${kills} of ${kills}` ||
    (f.adapter !== 'rfc7591' && f.orphans + f.unmanageable + f.killOrphans - f.killKept > 0) ||
    (f.rotationMode !== 'replace' && (!f.konnectRefused.startsWith('0 ') || !f.killKonnectRefused.startsWith('0 '))),
);
process.exitCode = broken ? 1 : 0;
