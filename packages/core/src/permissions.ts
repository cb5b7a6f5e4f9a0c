import type { AdapterDiagnostics, OperationContext, ReadinessReport } from './contract.js';

/**
 * Readiness that sees write permission: the adapter's read-only permission checks, run at most once per `ttlMs`
 * (one probe waits for the run under way). A check that fails makes the bridge not ready (`idp_error`, naming the
 * permissions in the log detail); one that cannot run (the IdP failed) leaves readiness to the IdP check.
 */
const FAILED_PERMISSIONS_TTL_MS = 10_000;

export function cachedPermissions(diagnostics: AdapterDiagnostics | undefined, ttlMs: number) {
  let last: { at: number; report: Promise<ReadinessReport>; failed?: boolean } | undefined;
  const run = async (context: OperationContext): Promise<ReadinessReport> => {
    const failed = (await diagnostics?.checkPermissions(context))?.filter((check) => check.result === 'fail') ?? [];
    if (failed.length === 0) return { ready: true };
    return {
      ready: false,
      reason: 'idp_error',
      missingPermissions: failed.map((check) => check.name),
      detail: `the admin account lacks what the bridge needs: ${failed.map((check) => `${check.name}${check.fix ? ` (${check.fix})` : ''}`).join('; ')}`,
    };
  };
  return {
    async check(context: OperationContext): Promise<ReadinessReport> {
      if (!diagnostics || ttlMs <= 0) return { ready: true };
      // A failure is trusted for a few seconds only: a check may fail because the IdP blipped, not the account.
      if (!last || Date.now() - last.at > (last.failed ? Math.min(ttlMs, FAILED_PERMISSIONS_TTL_MS) : ttlMs)) {
        const entry: { at: number; report: Promise<ReadinessReport>; failed?: boolean } = {
          at: Date.now(),
          report: run(context).catch((): ReadinessReport => ({ ready: true })),
        };
        void entry.report.then((report) => (entry.failed = !report.ready));
        last = entry;
      }
      return last.report;
    },
  };
}
