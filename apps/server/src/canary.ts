import type { DcrAdapter, DiagnosticCheck, Logger, StateStore } from '@dcr-bridge/core';
import { context, messageOf, writeTest } from './probe.js';

/**
 * The canary (DCR_BRIDGE_CANARY_INTERVAL): the doctor's write test, run every interval by one replica, so that
 * a team learns that an IdP upgrade or a changed permission broke the bridge before a developer does. A
 * marked probe client is created, gets a token, has its secret rotated (the new one works, the old one is
 * refused), and is deleted whatever fails.
 *
 * With several replicas on one PostgreSQL store, each run takes the store's lock `dcr-bridge/canary` and reads
 * when the last run was (`dcr-bridge/canary/last` in the journal): within 90 % of the interval it does not run
 * again, and takes that run's result instead. So one replica runs it each interval, and every replica reports
 * the same result (metrics and, when asked, readiness).
 */
export interface CanaryOptions {
  adapter: DcrAdapter;
  intervalMs: number;
  /** Scopes the probe asks for. */
  scopes: string[];
  /** Budget of each step of a run. */
  timeoutMs: number;
  logger: Logger;
  /** The journal: the last run is recorded there, under its lock when the store is shared. */
  journal: StateStore;
  /** Called after every run or adopted result. */
  onResult?(ok: boolean, at: Date): void;
}

export interface Canary {
  /** Whether the last known run failed (undefined before the first). */
  failing(): boolean | undefined;
  /** One run now (tests; the timer calls it). */
  runOnce(): Promise<{ ok: boolean; checks?: DiagnosticCheck[]; ranHere: boolean }>;
  stop(): void;
}

interface LastRun {
  at: string;
  ok: boolean;
}

const LAST_RUN = 'dcr-bridge/canary/last';

export function startCanary(options: CanaryOptions): Canary {
  const { adapter, journal, logger } = options;
  const diagnostics = adapter.diagnostics;
  if (!diagnostics)
    throw new Error(
      `The ${adapter.id} adapter has no diagnostics: the canary cannot prove its credentials. Turn DCR_BRIDGE_CANARY_INTERVAL off.`,
    );
  let failing: boolean | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const report = (ok: boolean, at: Date) => {
    failing = !ok;
    options.onResult?.(ok, at);
  };

  async function probe(): Promise<{ ok: boolean; checks: DiagnosticCheck[] }> {
    try {
      const tokenEndpoint = await (diagnostics as NonNullable<DcrAdapter['diagnostics']>).tokenEndpoint(context(options.timeoutMs));
      const checks = await writeTest(adapter, tokenEndpoint, { timeoutMs: options.timeoutMs, probeScopes: options.scopes });
      return { ok: checks.every((check) => check.result !== 'fail'), checks };
    } catch (error) {
      return { ok: false, checks: [{ name: 'token endpoint', result: 'fail', detail: messageOf(error) }] };
    }
  }

  async function runOnce(): Promise<{ ok: boolean; checks?: DiagnosticCheck[]; ranHere: boolean }> {
    const work = async () => {
      const last = await journal.get<LastRun>(LAST_RUN);
      if (last && Date.now() - Date.parse(last.at) < options.intervalMs * 0.9) {
        report(last.ok, new Date(last.at));
        return { ok: last.ok, ranHere: false };
      }
      const { ok, checks } = await probe();
      const at = new Date();
      await journal.set<LastRun>(LAST_RUN, { at: at.toISOString(), ok });
      report(ok, at);
      const failed = checks.filter((check) => check.result === 'fail');
      if (ok) logger.info('canary passed', { steps: checks.length });
      else
        logger.error('canary failed: the bridge cannot create, rotate or delete clients at the IdP; run dcr-bridge doctor --write-test', {
          failed: failed.map((check) => ({ name: check.name, detail: check.detail, fix: check.fix })),
        });
      return { ok, checks, ranHere: true };
    };
    return journal.exclusive ? journal.exclusive('dcr-bridge/canary', work) : work();
  }

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce()
        .catch((error: unknown) => logger.error('canary could not run', { error }))
        .finally(() => schedule(options.intervalMs));
    }, delayMs);
    timer.unref();
  };
  // The first run soon after the start, so that a broken set-up shows at once.
  schedule(Math.min(options.intervalMs, 5_000));

  return {
    failing: () => failing,
    runOnce,
    // A run under way is not awaited: closing the adapter ends its IdP calls, and the journal undoes a probe left behind.
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
