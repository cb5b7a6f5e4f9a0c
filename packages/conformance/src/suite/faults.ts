import { describe, expect } from 'vitest';
import { auditLedger, runKonnectLoad } from '../load.js';
import { required } from './scenarios.js';
import type { SuiteRun } from './run.js';

/** Konnect's traffic while the IdP misbehaves, audited afterwards. */
export function faultsGroup(run: SuiteRun): void {
  describe('faults', () => {
    run.scenario(
      'faults/konnect-load',
      async () => {
        const { target } = run;
        const faults = required(target.faults, 'faults', 'faults/konnect-load');
        const operationTimeoutMs = 1_200;
        const completionTimeoutMs = 5_000;
        const harness = await run.startBridge(target.adapter, { operationTimeoutMs, completionTimeoutMs, logger: target.logger });
        // As the server does at its start: what IdP work may still land after it was sent is bounded by the completion budget.
        await target.adapter.recover?.({ inFlightMs: completionTimeoutMs });
        try {
          const baseline = await target.backdoor.countClients();
          const seed = Math.floor(Math.random() * 2 ** 31);
          const injectedBefore = faults.faults.length;
          faults.injectFaults({ rate: 0.2, delayMs: [800, 2_000], seed });
          // A bridge that waited on a hung IdP would answer after the 5 s completion budget; 2.5 s of slack over
          // the deadline keeps that visible while a loaded CI machine schedules answers late.
          const ledger = await runKonnectLoad({
            call: harness.call,
            operations: 80,
            concurrency: 8,
            application: target.application,
            budgetMs: operationTimeoutMs + 2_500,
            seed,
          });
          faults.injectFaults(undefined);
          await faults.settle();
          await target.adapter.drained?.();
          const injected = faults.faults.slice(injectedBefore);
          const lostAnswers = (request?: { method: string; path: RegExp }) =>
            request
              ? injected.filter(
                  (fault) => fault.kind === 'processed_answer_lost' && fault.method === request.method && request.path.test(fault.path),
                ).length
              : 0;
          const report = await auditLedger(ledger, target.backdoor, harness.call, baseline);
          await target.adapter.drained?.();
          const context = `seed ${seed}; ${injected.length} faults injected; answers ${JSON.stringify(ledger.answers)}; audit ${JSON.stringify(report)}`;
          expect(injected.length, context).toBeGreaterThan(5);
          expect(
            {
              zombies: report.zombies,
              resurrectedSecrets: report.resurrectedSecrets,
              missing: report.missing,
              deadSecrets: report.deadSecrets,
              slowAnswers: report.slowAnswers,
              badErrors: report.badErrors,
            },
            context,
          ).toEqual({
            zombies: 0,
            resurrectedSecrets: 0,
            missing: 0,
            deadSecrets: 0,
            slowAnswers: 0,
            badErrors: 0,
          });
          // The secret Konnect last received works, whatever rotation failed since, where the IdP keeps two
          // secrets or lets one be put back; where it allows neither, each case was logged with the client id.
          if (target.adapter.rotation?.mode !== 'replace') expect(report.konnectSecretRefused, context).toBe(0);
          expect(report.orphans, context).toBeLessThanOrEqual(lostAnswers(target.faultLimits?.unsearchableCreate));
          expect(report.unmanageable, context).toBeLessThanOrEqual(lostAnswers(target.faultLimits?.tokenRotatingUpdate));
        } finally {
          faults.injectFaults(undefined);
          await harness.close();
        }
      },
      { timeout: 180_000 },
    );
  });
}
