import { mulberry32 } from './fake-kit.js';
import type { ConformanceBackdoor } from './suite/target.js';
import type { HarnessResponse } from './harness.js';
import { konnectApplication, konnectEvent } from './payloads.js';

/**
 * Konnect's traffic against a bridge, with a ledger of what Konnect was told, and an audit of that ledger
 * against the IdP afterwards. The conformance suite runs it briefly under injected faults; `pnpm soak`
 * runs it long. The audit counts exactly the failures the bridge promises never to have:
 *
 * - **orphans**: clients at the IdP that Konnect was never given (a create it was told failed);
 * - **zombies**: clients Konnect was told are deleted (204) that still exist;
 * - **resurrected secrets**: secrets rotated away (a rotation Konnect got 200 for) that work again;
 * - **Konnect's secret refused**: clients Konnect holds whose last secret Konnect received (at the create or
 *   a rotation answered 200) no longer works, whatever failed since: a rotation whose answer Konnect did not
 *   get must leave it working (zero where the IdP keeps two secrets or lets one be put back);
 * - **unmanageable**: clients Konnect holds that the bridge can no longer rotate or delete;
 * - **slow answers**: answers later than Konnect's budget; **bad errors**: error answers that are not
 *   `{error, error_description}` JSON.
 */
export type Call = (method: string, path: string, options?: { body?: unknown }) => Promise<HarnessResponse>;

export interface LoadOptions {
  call: Call;
  /** Konnect operations to send. */
  operations: number;
  /** At most this many at once (each on a different client). */
  concurrency: number;
  /** Fields of the create payload the IdP needs (see ConformanceTarget.application). */
  application?: Record<string, unknown>;
  /** Answers slower than this count as slow. Default 10 000 ms (Konnect's budget). */
  budgetMs?: number;
  /** Stop early (e.g. the process under test was killed). */
  signal?: AbortSignal;
  /** Seed of the operation mix, for a replayable run. */
  seed?: number;
}

/** What Konnect believes after the run. */
export interface KonnectLedger {
  /** Clients Konnect holds → the last secret it got, or undefined when a failed rotation may have changed it. */
  held: Map<string, string | undefined>;
  /** Clients Konnect holds → the last secret it received, kept when a rotation fails (what the application uses). */
  received: Map<string, string>;
  /** Clients Konnect was told are deleted. */
  deleted: Set<string>;
  /** Clients whose delete failed without a definite answer (5xx, none): the IdP may have deleted them late. */
  maybeDeleted: Set<string>;
  /** Secrets a successful rotation replaced: each must stay dead. */
  retired: Array<[clientId: string, secret: string]>;
  /** Operations answered, by Konnect operation and status. */
  answers: Record<string, Record<number, number>>;
  slowAnswers: number;
  badErrors: number;
  /** Requests that got no HTTP answer at all (the bridge was killed). */
  unanswered: number;
}

export function createLedger(): KonnectLedger {
  return {
    held: new Map(),
    received: new Map(),
    deleted: new Set(),
    maybeDeleted: new Set(),
    retired: [],
    answers: {},
    slowAnswers: 0,
    badErrors: 0,
    unanswered: 0,
  };
}

type Operation = 'create' | 'rotate' | 'update' | 'delete';

export async function runKonnectLoad(options: LoadOptions, ledger: KonnectLedger = createLedger()): Promise<KonnectLedger> {
  const budgetMs = options.budgetMs ?? 10_000;
  const random = mulberry32(options.seed ?? Math.floor(Math.random() * 2 ** 31));
  const busy = new Set<string>();
  let sent = 0;

  const record = (operation: Operation, res: HarnessResponse, ms: number) => {
    const byStatus = (ledger.answers[operation] ??= {});
    byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
    if (ms > budgetMs) ledger.slowAnswers++;
    const ok = res.status < 400 || (typeof res.body?.error === 'string' && typeof res.body?.error_description === 'string');
    if (!ok) ledger.badErrors++;
  };

  async function one(): Promise<void> {
    const idle = [...ledger.held.keys()].filter((clientId) => !busy.has(clientId));
    const roll = random();
    const operation: Operation = idle.length < 3 || roll < 0.3 ? 'create' : roll < 0.55 ? 'rotate' : roll < 0.8 ? 'update' : 'delete';
    const clientId = operation === 'create' ? undefined : (idle[Math.floor(random() * idle.length)] as string);
    if (clientId) busy.add(clientId);
    const started = performance.now();
    try {
      const res = await send(operation, clientId);
      record(operation, res, performance.now() - started);
      apply(operation, clientId, res);
    } catch {
      // No answer at all: the bridge went away mid-request. A create may have happened; nothing is known.
      ledger.unanswered++;
      if (clientId && operation === 'rotate') ledger.held.set(clientId, undefined);
      if (clientId && operation === 'delete') ledger.maybeDeleted.add(clientId);
    } finally {
      if (clientId) busy.delete(clientId);
    }
  }

  function send(operation: Operation, clientId: string | undefined): Promise<HarnessResponse> {
    const id = encodeURIComponent(clientId ?? '');
    switch (operation) {
      case 'create':
        return options.call('POST', '/', { body: konnectApplication(options.application) });
      case 'rotate':
        return options.call('POST', `/${id}/new-secret`);
      case 'update':
        return options.call('POST', `/${id}/event-hook`, {
          body: konnectEvent(clientId as string, {
            event_type: 'update_application',
            redirect_uris: [`https://app.example.com/cb-${Math.floor(random() * 1e6)}`],
          }),
        });
      case 'delete':
        return options.call('DELETE', `/${id}`);
    }
  }

  function apply(operation: Operation, clientId: string | undefined, res: HarnessResponse): void {
    if (operation === 'create' && res.status === 201) {
      ledger.held.set(res.body.client_id, res.body.client_secret);
      ledger.received.set(res.body.client_id, res.body.client_secret);
    }
    if (operation === 'rotate' && clientId) {
      const previous = ledger.held.get(clientId);
      if (res.status === 200) {
        ledger.received.set(clientId, res.body.client_secret);
        if (previous !== undefined) ledger.retired.push([clientId, previous]);
        ledger.held.set(clientId, res.body.client_secret);
      } else if (res.status >= 500) {
        // The rotation may have happened at the IdP: the secret Konnect has is no longer known to work.
        ledger.held.set(clientId, undefined);
      }
    }
    if (operation === 'delete' && clientId && res.status === 204) {
      ledger.held.delete(clientId);
      ledger.received.delete(clientId);
      ledger.maybeDeleted.delete(clientId);
      ledger.deleted.add(clientId);
    }
    if (operation === 'delete' && clientId && res.status >= 500) ledger.maybeDeleted.add(clientId);
  }

  const worker = async () => {
    while (sent < options.operations && !options.signal?.aborted) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return ledger;
}

export interface AuditReport {
  orphans: number;
  /** Clients Konnect holds that the IdP no longer has, with no failed delete to explain it (a create answered 201 and then undone). */
  missing: number;
  /** Clients whose delete Konnect was told failed, and that the IdP deleted late (Konnect's retry answers 204). */
  deletedLate: number;
  zombies: number;
  resurrectedSecrets: number;
  /** Held clients whose last known secret no longer works (with no failed rotation to explain it). */
  deadSecrets: number;
  /** Held clients whose last secret Konnect received is refused, failed rotations included (see above). */
  konnectSecretRefused: number;
  unmanageable: number;
  /** The unmanageable clients' ids, for the log of what an operator must clean up. */
  unmanageableIds: string[];
  slowAnswers: number;
  badErrors: number;
}

/**
 * Checks the ledger against the IdP through the backdoor, with faults off: every held client exists and its
 * last known secret works, every retired secret is dead, every deleted client is gone, nothing else was
 * created since `baseline`; then rotates and deletes every held client through the bridge, counting those
 * it can no longer manage. Leaves the IdP at the baseline (but for unmanageable clients).
 */
export async function auditLedger(
  ledger: KonnectLedger,
  backdoor: Pick<ConformanceBackdoor, 'clientExists' | 'canGetToken' | 'countClients'>,
  call: Call,
  baseline: number,
): Promise<AuditReport> {
  const report: AuditReport = {
    orphans: 0,
    missing: 0,
    deletedLate: 0,
    zombies: 0,
    resurrectedSecrets: 0,
    deadSecrets: 0,
    konnectSecretRefused: 0,
    unmanageable: 0,
    unmanageableIds: [],
    slowAnswers: ledger.slowAnswers,
    badErrors: ledger.badErrors,
  };
  for (const clientId of ledger.deleted) if (await backdoor.clientExists(clientId)) report.zombies++;
  const present: string[] = [];
  for (const [clientId, secret] of ledger.held) {
    if (!(await backdoor.clientExists(clientId))) {
      if (ledger.maybeDeleted.has(clientId)) report.deletedLate++;
      else report.missing++;
      continue;
    }
    present.push(clientId);
    if (secret !== undefined && !(await backdoor.canGetToken(clientId, secret))) report.deadSecrets++;
    const received = ledger.received.get(clientId);
    if (received !== undefined && !(await backdoor.canGetToken(clientId, received))) report.konnectSecretRefused++;
  }
  for (const [clientId, secret] of ledger.retired) if (await backdoor.canGetToken(clientId, secret)) report.resurrectedSecrets++;
  report.orphans = Math.max(0, (await backdoor.countClients()) - baseline - present.length);
  for (const clientId of present) {
    const id = encodeURIComponent(clientId);
    const rotated = await call('POST', `/${id}/new-secret`);
    const deleted = await call('DELETE', `/${id}`);
    const rotateOk = rotated.status === 200 || (rotated.status === 400 && rotated.body?.error === 'unsupported_operation');
    if (!rotateOk || deleted.status !== 204) {
      report.unmanageable++;
      report.unmanageableIds.push(clientId);
    }
  }
  return report;
}
