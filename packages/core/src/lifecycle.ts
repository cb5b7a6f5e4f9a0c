import type { ClientEvent, DcrAdapter, IdpPrimitives, OperationContext, RecoveryReport } from './contract.js';
import { createBackgroundWork } from './background.js';
import { unsupported } from './capabilities.js';
import { ClientLocks } from './client-locks.js';
import { createClientOperations } from './client-operations.js';
import { createCreateJournal } from './create-journal.js';
import { silentLogger, type Logger } from './logger.js';
import { createOwnership } from './ownership.js';
import { cachedPermissions } from './permissions.js';
import { createRotation } from './rotation.js';
import { createJsonStore, createMemoryDriver, type StateStore } from './store.js';

export { JOURNAL_PREFIX, type JournalEntry } from './create-journal.js';

/**
 * # The client lifecycle, written once for every adapter
 *
 * `defineDcrAdapter(primitives)` turns an IdP's primitives (see `IdpPrimitives` in contract.ts) into the
 * `DcrAdapter` the HTTP layer calls. Every rule of the contract lives in one of the parts it composes:
 *
 * - **Ownership** (`ownership.ts`): rotate, update and delete act only on a client proven to be the bridge's
 *   (`client_not_managed` otherwise); proven clients are remembered so that their next operation skips the read.
 * - **Idempotent delete** (here): a client that is not there is a success; so is one that vanished while the
 *   delete failed (it is looked up again before an error is reported).
 * - **One operation per client at a time** (`client-operations.ts`, `client-locks.ts`): within the process, and
 *   across replicas when the journal's driver is shared.
 * - **Journaled creates and recovery** (`create-journal.ts`): a client Konnect never got is deleted, also after
 *   a crash and, with a shared journal, by the replicas still running.
 * - **Rotations** (`rotation.ts`), background work with backoff (`background.ts`), readiness with the cached
 *   permission check (`permissions.ts`).
 */
/**
 * What the server hands every adapter for its lifecycle (`AdapterContext.openLifecycle`); an adapter's options
 * extend it and pass it on to `defineDcrAdapter` (`lifecycleSettings(options)`).
 */
export interface LifecycleSettings {
  /** Where open creates and rotations are recorded. Default: in memory (late completions are undone, a crash is not survived). */
  journal?: StateStore;
  /**
   * Encrypted at rest: where a `restore` rotation keeps the secret Konnect holds for the rotation's lifetime.
   * Default: in memory (a rotation Konnect did not get is put back; one under way when the process dies is not).
   */
  vault?: StateStore;
  /**
   * How long the old secret keeps working after Konnect got the new one (`two-secrets` IdPs only; the adapter
   * refuses a non-zero overlap otherwise). Default 0: it stops as soon as Konnect has the new one.
   */
  rotationOverlapMs?: number;
}

/** The lifecycle settings among an adapter's options. */
export function lifecycleSettings(options: LifecycleSettings): LifecycleSettings {
  return { journal: options.journal, vault: options.vault, rotationOverlapMs: options.rotationOverlapMs };
}

export interface LifecycleOptions extends LifecycleSettings {
  logger?: Logger;
  /**
   * How long IdP work may still land after it was sent (the completion budget, `completionTimeoutMs` of the HTTP
   * layer): a rotation that failed is settled again after it. Default 30 000 ms; `recover({inFlightMs})` sets it too.
   */
  inFlightMs?: number;
  /** Budget of one cleanup attempt (finding and deleting one client). Default 30 000 ms. */
  cleanupTimeoutMs?: number;
  /** Backoff between cleanup attempts: doubles from `cleanupBaseDelayMs` up to `cleanupMaxDelayMs`. Defaults 500 and 30 000 ms. */
  cleanupBaseDelayMs?: number;
  cleanupMaxDelayMs?: number;
  /** How many clients proven to be the bridge's are remembered, so that their next operation skips the read. Default 1 000; 0 turns it off. */
  rememberClients?: number;
  /**
   * How long readiness trusts the last permission check (the adapter's read-only `diagnostics.checkPermissions`),
   * so that an admin account that may read but not write keeps the pod out of the Service. Default 60 000 ms.
   */
  permissionCheckTtlMs?: number;
}

export function defineDcrAdapter<Client, Scope = string>(idp: IdpPrimitives<Client, Scope>, options: LifecycleOptions = {}): DcrAdapter {
  const journal = options.journal ?? createJsonStore(createMemoryDriver());
  const logger = (options.logger ?? silentLogger).child({ component: 'lifecycle' });
  let inFlightMs = options.inFlightMs ?? 30_000;
  const locks = new ClientLocks(journal.exclusive?.bind(journal));
  const owned = createOwnership(idp, options.rememberClients ?? 1_000);
  const { onClient, onClientHolding } = createClientOperations(locks);
  const baseDelayMs = options.cleanupBaseDelayMs ?? 500;
  const maxDelayMs = options.cleanupMaxDelayMs ?? 30_000;
  const background = createBackgroundWork({ logger, timeoutMs: options.cleanupTimeoutMs ?? 30_000, baseDelayMs, maxDelayMs });
  const rotation = createRotation({
    idp,
    journal,
    vault: options.vault ?? createJsonStore(createMemoryDriver()),
    logger,
    background,
    locks,
    overlapMs: options.rotationOverlapMs ?? 0,
    inFlightMs: () => inFlightMs,
    orNotFound: owned.orNotFound,
    read: owned.read,
    clientContext: owned.clientContext,
  });
  const creates = createCreateJournal({
    idp,
    journal,
    logger,
    background,
    locks,
    ownership: owned,
    rotation,
    inFlightMs: () => inFlightMs,
    baseDelayMs,
    maxDelayMs,
  });
  const permissions = cachedPermissions(idp.diagnostics, options.permissionCheckTtlMs ?? 60_000);

  async function applyEvent(clientId: string, event: ClientEvent, context: OperationContext): Promise<void> {
    if (event.type === 'update_application') {
      const replace = idp.replaceRedirectUris?.bind(idp);
      // Only reached by a caller that ignored the capabilities (the HTTP layer decides with `operationSupport`).
      if (!replace) throw unsupported(idp.id, 'update_application');
      return onClient(clientId, context, async () => {
        const { client, context: clientContext } = await owned.findOurs(clientId, context);
        await owned.orNotFound(clientId, context, () => replace(clientId, client, event.redirectUris, clientContext));
      });
    }
    const audience = event.audience;
    const operation = event.type === 'add_registration' ? 'addAudience' : 'removeAudience';
    const change = idp[operation]?.bind(idp);
    if (audience === undefined || !change) return;
    return onClient(clientId, context, async () => {
      const { client, context: clientContext } = await owned.findOurs(clientId, context);
      await owned.orNotFound(clientId, context, () => change(clientId, client, audience, clientContext));
    });
  }

  return {
    id: idp.id,
    capabilities: {
      rotateSecret: rotation !== undefined,
      updateRedirectUris: idp.replaceRedirectUris !== undefined,
      audienceRegistrations: idp.addAudience !== undefined && idp.removeAudience !== undefined,
    },
    registration: idp.registration,
    ...(rotation ? { rotation: { mode: rotation.mode, overlapMs: options.rotationOverlapMs ?? 0 } } : {}),

    createClient: creates.createClient,

    deleteClient: (clientId, context) =>
      onClient(clientId, context, async () => {
        const found = await owned.ours(clientId, context);
        if (found === undefined) return;
        try {
          await idp.remove(clientId, found.client, found.context);
        } catch (error) {
          if ((await idp.find(clientId, context).catch(() => found.client)) !== undefined) throw error;
        }
        owned.forget(clientId);
      }),

    ...(rotation
      ? {
          rotateSecret: (clientId: string, context: OperationContext) =>
            onClientHolding(clientId, context, async () => {
              const { client, context: clientContext } = await owned.findOurs(clientId, context);
              const { result: clientSecret, hold } = await rotation.rotate(clientId, client, clientContext);
              return { result: { clientId, clientSecret }, hold };
            }),
        }
      : {}),

    applyEvent,

    async checkReady(context) {
      // A journal several replicas share is a database this process needs for every operation: check it too.
      if (journal.exclusive) {
        try {
          await journal.check();
        } catch (error) {
          return { ready: false, detail: error instanceof Error ? error.message : String(error), reason: 'store_unavailable' };
        }
      }
      const report = await idp.checkReady(context);
      return report.ready ? permissions.check(context) : report;
    },

    ...(idp.diagnostics ? { diagnostics: idp.diagnostics } : {}),

    async recover(recoverOptions = {}): Promise<RecoveryReport> {
      inFlightMs = recoverOptions.inFlightMs ?? inFlightMs;
      const report = await creates.recoverOnce();
      if (journal.exclusive) creates.sweepAgain();
      return report;
    },

    drained: () => background.drained(),

    async close() {
      await background.close();
      await idp.close?.();
    },
  };
}
