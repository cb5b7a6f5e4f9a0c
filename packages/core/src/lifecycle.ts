import type {
  ClientEvent,
  ClientRegistration,
  CreatedClient,
  DcrAdapter,
  IdpPrimitives,
  OperationContext,
  RecoveryReport,
} from './contract.js';
import { createBackgroundWork } from './background.js';
import { unsupported } from './capabilities.js';
import { ClientLocks } from './client-locks.js';
import { cachedPermissions } from './permissions.js';
import { RememberedClients } from './remembered-clients.js';
import { BridgeError, isBridgeError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { newNonce } from './naming.js';
import { checkRegistration } from './registration.js';
import { sleep } from './retry.js';
import { createRotation } from './rotation.js';
import { createJsonStore, createMemoryDriver, type StateStore } from './store.js';

/**
 * # The client lifecycle, written once for every adapter
 *
 * `defineDcrAdapter(primitives)` turns an IdP's primitives (see `IdpPrimitives` in contract.ts) into the
 * `DcrAdapter` the HTTP layer calls. Every rule of the contract lives here:
 *
 * - **Ownership**: rotate, update and delete look the client up first (`find`) and refuse one without the
 *   marker (`isOurs`) with `client_not_managed`; the client read is handed to the primitive. Clients this
 *   process created or proved to be its own are remembered (`rememberClients`, most recently used first):
 *   an operation on one of them skips the read, unless its primitive is in `readsCurrent`. Only "ours" is
 *   remembered, never "not ours" or "gone", and a client is forgotten when it is deleted or found missing.
 * - **Idempotent delete**: a client that is not there is a success; so is one that vanished while the
 *   delete failed (it is looked up again before an error is reported).
 * - **One operation per client at a time** within the process: operations on the same client id queue
 *   behind each other, so a rotation and an update never interleave their reads and writes. An operation
 *   whose Konnect deadline passed while it queued is not started. Across processes: when the journal's
 *   driver is shared by several processes (it has `exclusive`, as PostgreSQL does), each operation also
 *   holds the driver's lock on the client, so two replicas never interleave either.
 * - **Journaled creates**: before the creating call, an intent `{nonce, clientName, startedAt}` is written
 *   to the journal; the client id given to `created(clientId)` is journaled at once where the IdP cannot be
 *   searched by nonce (elsewhere with the next write: a crash in between is recovered by the search), and
 *   `answering` is recorded, with the id, just before the answer is handed to Konnect (two synced writes: the
 *   fewest the order of events allows, argued in the package README, "Two synced writes per create"; the
 *   journal's driver shares syncs among concurrent creates). The create runs to completion under the operation's completion budget even
 *   when Konnect was already answered 504. The entry is removed once Konnect's connection took the answer;
 *   otherwise the client is deleted, retrying with backoff until it is gone (the entry stays until then). A create that failed in a way that may still have created the client
 *   (a timeout, a lost answer) is searched for by its nonce (`findByNonce`) and deleted when found.
 * - **Recovery**: `recover()` (called by the server at boot) does the same for every entry a previous
 *   process left open: the ones with a client id are deleted, the others are searched for by nonce once
 *   their create can no longer be under way at the IdP (`recover({inFlightMs})` after it started). Where the IdP
 *   cannot be searched, the entry is logged for an operator with the nonce the client's name carries. An
 *   entry marked `answering` is kept and logged: the answer may have reached Konnect, and deleting a client
 *   Konnect holds would break an application in use.
 * - **A shared journal** (several replicas on one PostgreSQL store): another live process's creates are in
 *   it too, so recovery touches only entries older than `inFlightMs` (a live process has finished or is
 *   undoing those), each under the driver's lock on its nonce, and it sweeps again every `inFlightMs` until
 *   close(): the creates of a replica that died are finished by the ones still running, without a restart.
 *   Replicas' clocks must agree to well within `inFlightMs` (NTP does).
 *
 * The journal holds no secrets (nonces, client ids, Konnect application names, times), so it may be a plain
 * JSON store (`createJsonStore`); the server keeps it in the embedded store file, so it survives a crash.
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

/** One open create in the journal. */
export interface JournalEntry {
  nonce: string;
  /** Konnect's application name (the client's name at the IdP is derived from it and the nonce). */
  clientName: string;
  startedAt: string;
  /** Set as soon as the IdP holds the client. */
  clientId?: string;
  /**
   * Set just before the answer is handed to Konnect. A process that dies after this may or may not have
   * delivered the credentials: recovery keeps such a client (deleting one Konnect holds would break an
   * application in use) and logs it as a possible orphan.
   */
  answering?: true;
}

export const JOURNAL_PREFIX = 'dcr-bridge/journal/';

/** Errors after which the IdP may still have created the client (nothing says it refused). */
const MAYBE_CREATED = new Set(['idp_timeout', 'idp_unavailable', 'idp_error', 'adapter_failure', 'internal_error']);

export function defineDcrAdapter<Client, Scope = string>(idp: IdpPrimitives<Client, Scope>, options: LifecycleOptions = {}): DcrAdapter {
  const journal = options.journal ?? createJsonStore(createMemoryDriver());
  const logger = (options.logger ?? silentLogger).child({ component: 'lifecycle' });
  const cleanupTimeoutMs = options.cleanupTimeoutMs ?? 30_000;
  const baseDelayMs = options.cleanupBaseDelayMs ?? 500;
  const maxDelayMs = options.cleanupMaxDelayMs ?? 30_000;
  let inFlightMs = options.inFlightMs ?? 30_000;
  const locks = new ClientLocks(journal.exclusive?.bind(journal));
  const owned = new RememberedClients<Client>(options.rememberClients ?? 1_000);
  const readsCurrent = new Set(idp.readsCurrent ?? []);
  /** Nonces of creates this process is working on; recovery leaves them alone. */
  const active = new Set<string>();
  const background = createBackgroundWork({ logger, timeoutMs: cleanupTimeoutMs, baseDelayMs, maxDelayMs });
  const closed = background.closed;
  const track = background.track;
  const inBackground = background.run;
  const rotation = createRotation({
    idp,
    journal,
    vault: options.vault ?? createJsonStore(createMemoryDriver()),
    logger,
    background,
    locks,
    overlapMs: options.rotationOverlapMs ?? 0,
    inFlightMs: () => inFlightMs,
    orNotFound: (clientId, context, work) => orNotFound(clientId, context, work),
  });

  const permissions = cachedPermissions(idp.diagnostics, options.permissionCheckTtlMs ?? 60_000);
  const journalKey = (nonce: string) => `${JOURNAL_PREFIX}${nonce}`;
  const notFound = (clientId: string) => new BridgeError('not_found', `${idp.idpName} has no client ${clientId}.`);

  const notManaged = (clientId: string) =>
    new BridgeError(
      'client_not_managed',
      `Client ${clientId} was not created by the bridge (it has no ${idp.marker}); the bridge leaves it alone.`,
    );

  /**
   * The client for `operation`, proven ours: the remembered one, or read (and remembered) when none is or the
   * primitive reads the current one. Undefined when the IdP has no such client; throws client_not_managed.
   */
  async function ours(clientId: string, operation: Primitive, context: OperationContext): Promise<Client | undefined> {
    const remembered = readsCurrent.has(operation) ? undefined : owned.get(clientId);
    if (remembered !== undefined) return remembered;
    const client = await idp.find(clientId, context);
    if (client === undefined) {
      owned.forget(clientId);
      return undefined;
    }
    if (!idp.isOurs(client)) throw notManaged(clientId);
    owned.remember(clientId, client);
    return client;
  }

  /** As `ours`, for operations on a client that must exist. */
  async function findOurs(clientId: string, operation: Primitive, context: OperationContext): Promise<Client> {
    const client = await ours(clientId, operation, context);
    if (client === undefined) throw notFound(clientId);
    return client;
  }

  /** Runs an operation on one client: queued behind the others on it, not started after Konnect's deadline. */
  function onClient<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T> {
    return onClientHolding(clientId, context, async () => ({ result: await work(), hold: Promise.resolve() }));
  }

  /** As `onClient`, for a rotation: the client stays locked until Konnect's connection took the answer (`hold`). */
  function onClientHolding<T>(
    clientId: string,
    context: OperationContext,
    work: () => Promise<{ result: T; hold: Promise<unknown> }>,
  ): Promise<T> {
    return locks.runHolding(clientId, async () => {
      if (context.deadline.aborted) {
        throw new BridgeError(
          'idp_timeout',
          `Another operation on client ${clientId} took the whole time budget; nothing was changed. Retry.`,
        );
      }
      return work();
    });
  }

  /** An IdP failure on a client that has vanished meanwhile is reported as what it is: not found. */
  async function orNotFound<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isBridgeError(error) && error.code === 'not_found') owned.forget(clientId);
      if (!isBridgeError(error) || error.status < 500) throw error;
      const stillThere = await idp.find(clientId, context).catch(() => true);
      if (stillThere !== undefined) throw error;
      owned.forget(clientId);
      throw notFound(clientId);
    }
  }

  /** Deletes a client the bridge created, retrying with backoff until it is gone; then closes the journal entry. */
  async function undo(entry: JournalEntry & { clientId: string }, reason: string): Promise<void> {
    const log = logger.child({ clientId: entry.clientId, nonce: entry.nonce });
    log.warn('deleting a client Konnect never got', { reason });
    const done = await background.retry('deleting a client Konnect never got', log, async () => {
      await locks.run(entry.clientId, () =>
        inBackground('undo', async (context) => {
          const client = await idp.find(entry.clientId, context);
          if (client !== undefined) await idp.remove(entry.clientId, client, context);
        }),
      );
      owned.forget(entry.clientId);
      await journal.delete(journalKey(entry.nonce));
    });
    if (done) log.info('deleted a client Konnect never got');
    else log.warn('shutting down before a client Konnect never got was deleted: the next start deletes it', {});
  }

  /** After a failed create whose client id is unknown: search by nonce, delete what is found. */
  async function resolveUnknown(
    entry: JournalEntry,
    reason: string,
    options: { secondLook: boolean },
  ): Promise<'undone' | 'never_created' | 'unresolved'> {
    if (!idp.findByNonce) {
      logger.error(
        `a create may have left a client at ${idp.idpName} that nobody holds, and ${idp.idpName} cannot be searched: look for a client whose name ends in "${entry.nonce}" and delete it`,
        { nonce: entry.nonce, clientName: entry.clientName, startedAt: entry.startedAt, reason },
      );
      await journal.delete(journalKey(entry.nonce));
      return 'unresolved';
    }
    // Right after a failed create, not found is concluded only on a second look, once the create can no longer be
    // under way at the IdP (`inFlightMs` after it started, and a second more): a create the IdP holds may land after
    // the first search. Recovery searches only once that time has passed, and looks once.
    let lookedAgain = !options.secondLook;
    for (let attempt = 0; !closed.aborted; attempt++) {
      try {
        const findByNonce = idp.findByNonce.bind(idp);
        const found = await inBackground('find-by-nonce', (context) => findByNonce(entry.nonce, { clientName: entry.clientName }, context));
        if (!found && !lookedAgain) {
          lookedAgain = true;
          await sleep(Math.max(1_000, Date.parse(entry.startedAt) + inFlightMs + 1_000 - Date.now()), closed).catch(() => undefined);
          attempt = -1;
          continue;
        }
        if (!found) {
          await journal.delete(journalKey(entry.nonce));
          return 'never_created';
        }
        await undo({ ...entry, clientId: found.clientId }, reason);
        return 'undone';
      } catch (error) {
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
        logger.warn('could not search for a client a failed create may have left; retrying', {
          nonce: entry.nonce,
          error,
          retryInMs: delay,
        });
        await sleep(delay, closed).catch(() => undefined);
      }
    }
    return 'unresolved';
  }

  async function createClient(registration: ClientRegistration, context: OperationContext): Promise<CreatedClient> {
    if (context.deadline.aborted)
      throw new BridgeError('idp_timeout', 'The time budget was spent before the create could start; nothing was created.');
    const scopes = await checkRegistration(idp.registration, registration, context);
    const entry: JournalEntry = { nonce: newNonce(), clientName: registration.clientName, startedAt: new Date().toISOString() };
    active.add(entry.nonce);
    try {
      await journal.set(journalKey(entry.nonce), entry);
    } catch (error) {
      active.delete(entry.nonce);
      logger.error('could not record a create in the journal; nothing was created', { error });
      throw new BridgeError(
        'store_unavailable',
        'The bridge could not record the create in its journal, so it did not start it: nothing was created. Retry.',
      );
    }
    let created: CreatedClient;
    try {
      created = await idp.create(registration, {
        ...context,
        nonce: entry.nonce,
        scopes,
        created: async (clientId, client) => {
          entry.clientId = clientId;
          if (client !== undefined) owned.remember(clientId, client);
          // Where the IdP can be searched by nonce, a crash before the answering mark is recovered by that
          // search, so the id is journaled with the mark: one synced write less per create. Otherwise now.
          if (!idp.findByNonce) await journal.set(journalKey(entry.nonce), entry);
        },
      });
    } catch (error) {
      const reason = isBridgeError(error) ? error.code : 'unexpected error';
      if (entry.clientId !== undefined)
        track(undo({ ...entry, clientId: entry.clientId }, `the create failed (${reason})`).finally(() => active.delete(entry.nonce)));
      else if (!isBridgeError(error) || MAYBE_CREATED.has(error.code))
        track(resolveUnknown(entry, `the create failed (${reason})`, { secondLook: true }).finally(() => active.delete(entry.nonce)));
      else track(journal.delete(journalKey(entry.nonce)).finally(() => active.delete(entry.nonce)));
      throw error;
    }
    const clientId = created.clientId;
    if (!context.deadline.aborted) {
      // Durable before the answer leaves: a crash after this point must not undo a client Konnect may hold.
      Object.assign(entry, { clientId, answering: true });
      await journal.set(journalKey(entry.nonce), entry);
    }
    track(
      context.answered
        .then((answered) =>
          answered ? journal.delete(journalKey(entry.nonce)) : undo({ ...entry, clientId }, 'Konnect did not get the answer'),
        )
        .finally(() => active.delete(entry.nonce)),
    );
    return created;
  }

  async function applyEvent(clientId: string, event: ClientEvent, context: OperationContext): Promise<void> {
    if (event.type === 'update_application') {
      const replace = idp.replaceRedirectUris?.bind(idp);
      // Only reached by a caller that ignored the capabilities (the HTTP layer decides with `operationSupport`).
      if (!replace) throw unsupported(idp.id, 'update_application');
      return onClient(clientId, context, async () => {
        const client = await findOurs(clientId, 'replaceRedirectUris', context);
        await orNotFound(clientId, context, () => replace(clientId, client, event.redirectUris, context));
      });
    }
    const audience = event.audience;
    const operation = event.type === 'add_registration' ? 'addAudience' : 'removeAudience';
    const change = idp[operation]?.bind(idp);
    if (audience === undefined || !change) return;
    return onClient(clientId, context, async () => {
      const client = await findOurs(clientId, operation, context);
      await orNotFound(clientId, context, () => change(clientId, client, audience, context));
    });
  }

  /** One pass over the journal's open creates (see Recovery above). */
  async function recoverOnce(): Promise<RecoveryReport> {
    const shared = journal.exclusive?.bind(journal);
    const startedBefore = Date.now() - inFlightMs;
    const entries = (await journal.list<JournalEntry>(JOURNAL_PREFIX))
      .map(([, entry]) => entry)
      .filter((entry) => !active.has(entry.nonce) && (!shared || Date.parse(entry.startedAt) <= startedBefore));
    const report: RecoveryReport = { open: entries.length, undone: 0, neverCreated: 0, unresolved: 0, kept: 0, rotations: 0 };
    if (entries.length > 0) logger.warn('finishing creates a previous process left open', { open: entries.length });
    const rotations = rotation?.settleAll({ shared: shared !== undefined }) ?? Promise.resolve(0);
    await Promise.all(
      entries.map(async (entry) => {
        const outcome = shared ? await shared(journalKey(entry.nonce), () => finishIfOpen(entry)) : await finish(entry);
        if (outcome !== undefined) report[outcome]++;
        else report.open--;
      }),
    );
    report.rotations = await rotations;
    return report;
  }

  /** In a shared journal: another replica may have finished the entry while this one listed it. */
  async function finishIfOpen(entry: JournalEntry): Promise<RecoveryOutcome | undefined> {
    const current = await journal.get<JournalEntry>(journalKey(entry.nonce));
    return current === undefined ? undefined : finish(current);
  }

  async function finish(entry: JournalEntry): Promise<RecoveryOutcome> {
    if (entry.answering) {
      logger.warn(
        'a create was answering Konnect when the process stopped: the client is kept; if the application does not exist in Konnect, delete it at the IdP',
        {
          clientId: entry.clientId,
          nonce: entry.nonce,
          startedAt: entry.startedAt,
        },
      );
      await journal.delete(journalKey(entry.nonce));
      return 'kept';
    }
    if (entry.clientId !== undefined) {
      await undo({ ...entry, clientId: entry.clientId }, 'the process that created it stopped before Konnect got the answer');
      return 'undone';
    }
    const settledAt = Date.parse(entry.startedAt) + inFlightMs;
    if (settledAt > Date.now()) await sleep(settledAt - Date.now(), closed).catch(() => undefined);
    const outcome = await resolveUnknown(entry, 'the process that created it stopped during the create', { secondLook: false });
    return outcome === 'undone' ? 'undone' : outcome === 'never_created' ? 'neverCreated' : 'unresolved';
  }

  /** With a shared journal: the next sweep, every `inFlightMs` until close(). */
  function sweepAgain(): void {
    background.schedule(Date.now() + inFlightMs, () =>
      track(
        recoverOnce().then((report) => {
          if (report.open > 0 || report.rotations > 0) logger.info('finished creates another process left open', { ...report });
          sweepAgain();
        }),
      ),
    );
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

    createClient,

    deleteClient: (clientId, context) =>
      onClient(clientId, context, async () => {
        const client = await ours(clientId, 'remove', context);
        if (client === undefined) return;
        try {
          await idp.remove(clientId, client, context);
        } catch (error) {
          if ((await idp.find(clientId, context).catch(() => client)) !== undefined) throw error;
        }
        owned.forget(clientId);
      }),

    ...(rotation
      ? {
          rotateSecret: (clientId: string, context: OperationContext) =>
            onClientHolding(clientId, context, async () => {
              const client = await findOurs(clientId, 'rotateSecret', context);
              const { result: clientSecret, hold } = await rotation.rotate(clientId, client, context);
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
      const report = await recoverOnce();
      if (journal.exclusive) sweepAgain();
      return report;
    },

    drained: () => background.drained(),

    async close() {
      await background.close();
      await idp.close?.();
    },
  };
}

type RecoveryOutcome = Exclude<keyof RecoveryReport, 'open' | 'rotations'>;

type Primitive = NonNullable<IdpPrimitives<unknown>['readsCurrent']>[number];
