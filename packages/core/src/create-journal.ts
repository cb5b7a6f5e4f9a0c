import type { ClientRegistration, CreatedClient, IdpPrimitives, OperationContext, RecoveryReport } from './contract.js';
import type { BackgroundWork } from './background.js';
import type { ClientLocks } from './client-locks.js';
import { BridgeError, isBridgeError } from './errors.js';
import type { Logger } from './logger.js';
import { newNonce } from './naming.js';
import type { Ownership } from './ownership.js';
import { checkRegistration } from './registration.js';
import { sleep } from './retry.js';
import type { Rotation } from './rotation.js';
import type { StateStore } from './store.js';

/**
 * # Journaled creates, and their recovery
 *
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

export interface CreateJournalOptions<Client, Scope> {
  idp: IdpPrimitives<Client, Scope>;
  journal: StateStore;
  logger: Logger;
  background: BackgroundWork;
  locks: ClientLocks;
  ownership: Ownership<Client>;
  rotation: Rotation<Client> | undefined;
  /** How long a create may still land at the IdP after it started (changed by `recover({inFlightMs})`). */
  inFlightMs: () => number;
  /** Backoff between searches by nonce: doubles from `baseDelayMs` up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface CreateJournal {
  createClient(registration: ClientRegistration, context: OperationContext): Promise<CreatedClient>;
  /** One pass over the journal's open creates (see Recovery above). */
  recoverOnce(): Promise<RecoveryReport>;
  /** With a shared journal: the next sweep, every `inFlightMs` until close(). */
  sweepAgain(): void;
}

export function createCreateJournal<Client, Scope>(options: CreateJournalOptions<Client, Scope>): CreateJournal {
  const { idp, journal, logger, background, locks, ownership: owned, rotation, inFlightMs, baseDelayMs, maxDelayMs } = options;
  /** Nonces of creates this process is working on; recovery leaves them alone. */
  const active = new Set<string>();
  const closed = background.closed;
  const track = background.track;
  const inBackground = background.run;
  const journalKey = (nonce: string) => `${JOURNAL_PREFIX}${nonce}`;

  /** Deletes a client the bridge created, retrying with backoff until it is gone; then closes the journal entry. */
  async function undo(entry: JournalEntry & { clientId: string }, reason: string): Promise<void> {
    const log = logger.child({ clientId: entry.clientId, nonce: entry.nonce });
    log.warn('deleting a client Konnect never got', { reason });
    const done = await background.retry('deleting a client Konnect never got', log, async () => {
      await locks.run(entry.clientId, () =>
        inBackground('undo', async (context) => {
          const found = await owned.read(entry.clientId, context);
          if (found !== undefined) await idp.remove(entry.clientId, found.client, found.context);
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
          await sleep(Math.max(1_000, Date.parse(entry.startedAt) + inFlightMs() + 1_000 - Date.now()), closed).catch(() => undefined);
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

  async function recoverOnce(): Promise<RecoveryReport> {
    const shared = journal.exclusive?.bind(journal);
    const startedBefore = Date.now() - inFlightMs();
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
    const settledAt = Date.parse(entry.startedAt) + inFlightMs();
    if (settledAt > Date.now()) await sleep(settledAt - Date.now(), closed).catch(() => undefined);
    const outcome = await resolveUnknown(entry, 'the process that created it stopped during the create', { secondLook: false });
    return outcome === 'undone' ? 'undone' : outcome === 'never_created' ? 'neverCreated' : 'unresolved';
  }

  function sweepAgain(): void {
    background.schedule(Date.now() + inFlightMs(), () =>
      track(
        recoverOnce().then((report) => {
          if (report.open > 0 || report.rotations > 0) logger.info('finished creates another process left open', { ...report });
          sweepAgain();
        }),
      ),
    );
  }

  return { createClient, recoverOnce, sweepAgain };
}

type RecoveryOutcome = Exclude<keyof RecoveryReport, 'open' | 'rotations'>;
