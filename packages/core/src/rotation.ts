import type { ClientContext, ClientSecrets, IdpPrimitives, IdpSecret, OperationContext, RotationMode, SecretValue } from './contract.js';
import type { BackgroundWork } from './background.js';
import type { ClientLocks } from './client-locks.js';
import { isBridgeError } from './errors.js';
import type { Logger } from './logger.js';
import type { StateStore } from './store.js';

/**
 * # Rotations that never strand an application
 *
 * A rotation whose answer Konnect never got (a lost answer, Konnect's deadline, an IdP that finished the call
 * after the bridge gave up, a crash) must leave the secret Konnect holds working. Every rotation is journaled
 * like a create: the intent before the IdP call, `answering` just before the answer leaves; the client's lock
 * is held until Konnect's connection took the answer (or did not), so the next operation on the client knows
 * which secret Konnect has. What happens next depends on what the IdP allows (`RotationMode`, contract.ts):
 *
 * - **two-secrets**: the journal keeps, per client and by the IdP's secret ids only, the secrets Konnect may
 *   hold (`held`) and those still honoured until a time (`overlap`). A rotation lists the client's secrets,
 *   retires every other one (an earlier rotation's overlap: the oldest stops; one a lost rotation left), adds
 *   the new one, and once Konnect got it retires the old one (at once, or when the overlap ends). Konnect did
 *   not get it: the new one is retired. A rotation that failed without a clear refusal may still add a secret
 *   at the IdP later: until `inFlightMs` after it started the record stays, and the client is settled again
 *   then (anything not held or in overlap is retired).
 * - **restore**: Konnect's secret is read before the rotation and kept, sealed, in the vault while the
 *   rotation may still change the IdP; Konnect did not get the new one: the old one is put back, and again
 *   once a late rotation can no longer land (`inFlightMs` after it started).
 * - **replace**: nothing can be done; each case is logged at warn with the client id (the rotation is journaled
 *   so that one under way when the process dies is logged by the next start).
 *
 * A process that dies mid-rotation leaves its record; `settleAll` (recovery, and every sweep of a shared
 * journal) finishes it: a rotation that had not started answering is undone; one that was answering when the
 * process died keeps both secrets (two-secrets: Konnect may hold either; the next rotation retires them) or
 * the IdP's new one (restore), logged. An overlap's end is a timer in the process that rotated, and the record
 * in the journal for every other one (a restart, another replica), so it survives both.
 */
export const ROTATION_PREFIX = 'dcr-bridge/rotation/';
export const RESTORE_PREFIX = 'dcr-bridge/restore/';

/** two-secrets: what the journal knows of one client's secrets (their ids, never their values). */
export interface SecretsRecord {
  clientId: string;
  /** Secrets Konnect may hold: one, or two when a process died while the answer was leaving. Oldest first. */
  held: string[];
  /** Secrets of earlier rotations, honoured until `until` (the overlap). */
  overlap: Array<{ id: string; until: string }>;
  /** The rotation under way. */
  pending?: PendingRotation & { added?: string };
  /** Until then, a rotation that failed may still add a secret at the IdP. */
  settlesAt?: string;
}

/** restore: the secret Konnect holds, sealed in the vault while a rotation may still change the IdP's. */
export interface RestoreRecord {
  clientId: string;
  secret: string;
  pending?: PendingRotation;
  settlesAt?: string;
}

interface SettleOptions {
  /** Several processes share the journal: another one's rotation under way is left alone. */
  shared?: boolean;
  /** Settle now, also when no overlap or settling time is due yet (after a failed rotation). */
  now?: boolean;
}

interface PendingRotation {
  startedAt: string;
  /** Set just before the answer leaves for Konnect. */
  answering?: true;
}

/** Errors after which the IdP may still have changed the secret (nothing says it refused). */
const MAYBE_DONE = new Set(['idp_timeout', 'idp_unavailable', 'idp_error', 'adapter_failure', 'internal_error']);
const maybeDone = (error: unknown) => !isBridgeError(error) || MAYBE_DONE.has(error.code);

export interface RotationOptions<Client> {
  idp: IdpPrimitives<Client, unknown>;
  /** The lifecycle's journal (two-secrets records: no secrets in them). */
  journal: StateStore;
  /** Encrypted at rest (restore records hold Konnect's secret). */
  vault: StateStore;
  logger: Logger;
  background: BackgroundWork;
  locks: ClientLocks;
  /** How long the old secret keeps working after Konnect got the new one. */
  overlapMs: number;
  /** How long IdP work may still land after it was sent (the completion budget). */
  inFlightMs: () => number;
  /** Runs an IdP call on a client that may have vanished meanwhile: its failure is then `not_found`. */
  orNotFound<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T>;
  /** Reads the client (no ownership check), with the context for its primitives (`Ownership.read`). */
  read(clientId: string, context: OperationContext): Promise<{ client: Client; context: ClientContext<Client> } | undefined>;
  /** The context for the primitives on a client not read in this operation (`Ownership.clientContext`). */
  clientContext(clientId: string, context: OperationContext): ClientContext<Client>;
}

export interface Rotation<Client> {
  readonly mode: RotationMode;
  /** The new secret. Call under the client's lock with `locks.runHolding`: the returned `hold` ends the rotation. */
  rotate(clientId: string, client: Client, context: ClientContext<Client>): Promise<{ result: string; hold: Promise<unknown> }>;
  /** Finishes every rotation record that is due (recovery, sweeps); returns how many it finished. */
  settleAll(options: { shared: boolean }): Promise<number>;
}

export function rotationMode(idp: Pick<IdpPrimitives<unknown>, 'secrets' | 'secretValue' | 'rotateSecret'>): RotationMode | undefined {
  if (idp.secrets) return 'two-secrets';
  if (!idp.rotateSecret) return undefined;
  return idp.secretValue ? 'restore' : 'replace';
}

export function createRotation<Client>(options: RotationOptions<Client>): Rotation<Client> | undefined {
  const mode = rotationMode(options.idp);
  if (mode === undefined) return undefined;
  if (options.overlapMs > 0 && mode !== 'two-secrets') {
    throw new Error(
      `A rotation overlap needs an IdP that keeps two secrets per client, and ${options.idp.idpName} (${options.idp.id} adapter) does not: set the rotation overlap to 0.`,
    );
  }
  const { idp } = options;
  if (idp.secrets) return twoSecrets(options, idp.secrets);
  const rotateSecret = idp.rotateSecret?.bind(idp) as NonNullable<IdpPrimitives<Client>['rotateSecret']>;
  return idp.secretValue ? restoring(options, rotateSecret, idp.secretValue) : replacing(options, rotateSecret);
}

const later = (a: string | undefined, b: string): string => (a !== undefined && a > b ? a : b);
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();

function twoSecrets<Client>(options: RotationOptions<Client>, secrets: ClientSecrets<Client>): Rotation<Client> {
  const { journal, background, locks, orNotFound, clientContext, read: readClient } = options;
  const logger = options.logger.child({ rotation: 'two-secrets' });
  const key = (clientId: string) => `${ROTATION_PREFIX}${clientId}`;
  /** Clients whose rotation this process is in the middle of. */
  const active = new Set<string>();

  /** Retires every secret of the client the record does not keep; saves or closes the record; arms the next timer. */
  async function settle(clientId: string, context: OperationContext, options: SettleOptions = {}): Promise<boolean> {
    const record = await journal.get<SecretsRecord>(key(clientId));
    if (record === undefined) return false;
    const now = Date.now();
    if (record.pending) {
      if (active.has(clientId)) return false;
      // Another replica's rotation may be under way: it is left alone until it can no longer be.
      if (options.shared && Date.parse(record.pending.startedAt) + inFlight() > now) return false;
      if (record.pending.answering && record.pending.added !== undefined) {
        logger.warn('a rotation was answering Konnect when its process stopped: both secrets are kept until the next rotation', {
          clientId,
        });
        record.held = [...record.held, record.pending.added];
      }
      record.settlesAt = later(record.settlesAt, new Date(Date.parse(record.pending.startedAt) + inFlight()).toISOString());
      delete record.pending;
    } else if (!options.now && !isDue(record, now)) {
      arm(clientId, record);
      return false;
    }
    record.overlap = record.overlap.filter((entry) => Date.parse(entry.until) > now);
    const found = await readClient(clientId, context);
    if (found === undefined) {
      await journal.delete(key(clientId));
      return true;
    }
    const { client, context: onClient } = found;
    const keep = new Set([...record.held, ...record.overlap.map((entry) => entry.id)]);
    const listed = await secrets.list(clientId, client, onClient);
    // None of them is there any more (changed behind the bridge's back): the newest stays, never the client without one.
    if (listed.length > 0 && !listed.some((secret) => keep.has(secret.id))) keep.add(newest(listed).id);
    for (const secret of listed) {
      if (keep.has(secret.id)) continue;
      await secrets.remove(clientId, client, secret.id, onClient);
      logger.info('retired a secret Konnect does not hold', { clientId });
    }
    if (record.settlesAt !== undefined && Date.parse(record.settlesAt) <= now) delete record.settlesAt;
    if (record.overlap.length === 0 && record.settlesAt === undefined && record.held.length <= 1) await journal.delete(key(clientId));
    else {
      await journal.set(key(clientId), record);
      arm(clientId, record);
    }
    return true;
  }

  /** Settles the client in the background, under its lock, until done; `now` also when nothing is due yet. */
  function settleLater(clientId: string, options: SettleOptions = {}): void {
    background.track(
      background.retry('retiring secrets Konnect does not hold', logger.child({ clientId }), (context) =>
        locks.run(clientId, () => settle(clientId, context, options)).then(() => undefined),
      ),
    );
  }

  /** Client id → when its armed timer fires: one timer per client, however often sweeps see its record. */
  const armed = new Map<string, number>();

  function arm(clientId: string, record: SecretsRecord): void {
    const due = nextDue(record);
    if (due === undefined || (armed.get(clientId) ?? Number.POSITIVE_INFINITY) <= due) return;
    armed.set(clientId, due);
    const settling = record.settlesAt !== undefined && Date.parse(record.settlesAt) === due;
    background.schedule(
      due,
      () => {
        if (armed.get(clientId) === due) armed.delete(clientId);
        settleLater(clientId);
      },
      { awaited: settling },
    );
  }

  const inFlight = options.inFlightMs;

  return {
    mode: 'two-secrets',

    async rotate(clientId, client, context) {
      const previous = await journal.get<SecretsRecord>(key(clientId));
      const listed = await orNotFound(clientId, context, () => secrets.list(clientId, client, context));
      const ids = listed.map((secret) => secret.id);
      let held = (previous?.held ?? []).filter((id) => ids.includes(id));
      // No record: the client has one secret (or, from before two-phase rotation, Konnect holds the newest).
      if (held.length === 0 && listed.length > 0) held = [newest(listed).id];
      const retire = ids.filter((id) => !held.includes(id));
      // Room for the new secret: at most `max`; with two Konnect may hold, the older goes.
      while (held.length >= secrets.max) retire.push(held.shift() as string);
      const startedAt = new Date().toISOString();
      const record: SecretsRecord = {
        clientId,
        held,
        overlap: [],
        pending: { startedAt },
        ...(previous?.settlesAt !== undefined ? { settlesAt: previous.settlesAt } : {}),
      };
      await journal.set(key(clientId), record);
      active.add(clientId);
      let added: IdpSecret & { secret: string };
      try {
        for (const id of retire) await orNotFound(clientId, context, () => secrets.remove(clientId, client, id, context));
        added = await orNotFound(clientId, context, () => secrets.add(clientId, client, context));
      } catch (error) {
        active.delete(clientId);
        delete record.pending;
        if (maybeDone(error)) record.settlesAt = later(record.settlesAt, isoIn(inFlight()));
        await journal.set(key(clientId), record).catch(() => undefined);
        // A secret the IdP added without the bridge learning of it (a lost answer) is retired now; one it adds
        // late, when `settlesAt` comes.
        settleLater(clientId, { now: true });
        throw error;
      }
      record.pending = { startedAt, added: added.id };
      if (!context.deadline.aborted) {
        record.pending.answering = true;
        await journal.set(key(clientId), record);
      }
      const hold = context.answered.then(async (answered) => {
        active.delete(clientId);
        delete record.pending;
        const retiring = answered ? (options.overlapMs > 0 ? [] : record.held) : [added.id];
        if (answered) {
          const until = isoIn(options.overlapMs);
          record.overlap = options.overlapMs > 0 ? record.held.map((id) => ({ id, until })) : [];
          record.held = [added.id];
        } else {
          logger.warn('Konnect did not get the new secret: it is retired, and the secret Konnect holds keeps working', { clientId });
        }
        try {
          // One attempt while the lock is held; the background takes over when the IdP fails.
          await background.run('retiring the secret Konnect does not hold', async (cleanup) => {
            const onClient = clientContext(clientId, cleanup);
            for (const id of retiring) await secrets.remove(clientId, client, id, onClient);
          });
        } catch {
          await journal.set(key(clientId), record);
          return settleLater(clientId, { now: true });
        }
        if (record.overlap.length === 0 && record.settlesAt === undefined) return journal.delete(key(clientId));
        await journal.set(key(clientId), record);
        arm(clientId, record);
      });
      background.track(hold);
      return { result: added.secret, hold };
    },

    async settleAll({ shared }) {
      const now = Date.now();
      // A record with nothing due yet (an overlap running) needs no lock and no IdP call: only its timer.
      const records = (await journal.list<SecretsRecord>(ROTATION_PREFIX)).filter(([, record]) => {
        if (record.pending || isDue(record, now)) return true;
        arm(record.clientId, record);
        return false;
      });
      return settleEach(
        records.map(([, record]) => record.clientId),
        { background, locks, logger },
        (clientId, context) => settle(clientId, context, { shared }),
      );
    },
  };
}

function restoring<Client>(
  options: RotationOptions<Client>,
  rotateSecret: NonNullable<IdpPrimitives<Client>['rotateSecret']>,
  value: SecretValue<Client>,
): Rotation<Client> {
  const { vault, background, locks, orNotFound, read: readClient } = options;
  const logger = options.logger.child({ rotation: 'restore' });
  const key = (clientId: string) => `${RESTORE_PREFIX}${clientId}`;
  const active = new Set<string>();
  const inFlight = options.inFlightMs;

  /** Puts Konnect's secret back where the IdP's differs; closes the record once no rotation can land any more. */
  async function settle(clientId: string, context: OperationContext, options: SettleOptions = {}): Promise<boolean> {
    const record = await vault.get<RestoreRecord>(key(clientId));
    if (record === undefined) return false;
    const now = Date.now();
    if (record.pending) {
      if (active.has(clientId)) return false;
      if (options.shared && Date.parse(record.pending.startedAt) + inFlight() > now) return false;
      if (record.pending.answering) {
        logger.warn(
          "a rotation was answering Konnect when its process stopped: the IdP's new secret is kept; if the application's calls fail, rotate its secret again in Konnect",
          { clientId },
        );
        await vault.delete(key(clientId));
        return true;
      }
      record.settlesAt = later(record.settlesAt, new Date(Date.parse(record.pending.startedAt) + inFlight()).toISOString());
      delete record.pending;
    }
    const found = await readClient(clientId, context);
    if (found === undefined) {
      await vault.delete(key(clientId));
      return true;
    }
    const { client, context: onClient } = found;
    if (value.comparable === false) {
      await value.set(clientId, client, record.secret, onClient);
      logger.warn('set the secret Konnect holds again, as a rotation Konnect did not get may have replaced it', { clientId });
    } else if ((await value.read(clientId, client, onClient)) !== record.secret) {
      await value.set(clientId, client, record.secret, onClient);
      logger.warn('put back the secret Konnect holds: Konnect did not get the new one', { clientId });
    }
    if (record.settlesAt === undefined || Date.parse(record.settlesAt) <= now) await vault.delete(key(clientId));
    else {
      await vault.set(key(clientId), record);
      background.schedule(Date.parse(record.settlesAt), () => settleLater(clientId), { awaited: true });
    }
    return true;
  }

  function settleLater(clientId: string): void {
    background.track(
      background.retry('putting back the secret Konnect holds', logger.child({ clientId }), (context) =>
        locks.run(clientId, () => settle(clientId, context)).then(() => undefined),
      ),
    );
  }

  return {
    mode: 'restore',

    async rotate(clientId, client, context) {
      const previous = await vault.get<RestoreRecord>(key(clientId));
      // A record still open: an earlier rotation may yet land, and the record knows the secret Konnect holds.
      const secret = previous?.secret ?? (await orNotFound(clientId, context, () => value.read(clientId, client, context)));
      const startedAt = new Date().toISOString();
      const record: RestoreRecord = {
        clientId,
        secret,
        pending: { startedAt },
        ...(previous?.settlesAt !== undefined ? { settlesAt: previous.settlesAt } : {}),
      };
      await vault.set(key(clientId), record);
      active.add(clientId);
      let fresh: string;
      try {
        fresh = await orNotFound(clientId, context, () => rotateSecret(clientId, client, context));
      } catch (error) {
        active.delete(clientId);
        delete record.pending;
        if (!maybeDone(error)) {
          if (record.settlesAt === undefined) await vault.delete(key(clientId)).catch(() => undefined);
          throw error;
        }
        record.settlesAt = later(record.settlesAt, isoIn(inFlight()));
        await vault.set(key(clientId), record).catch(() => undefined);
        settleLater(clientId);
        throw error;
      }
      if (!context.deadline.aborted) {
        record.pending = { startedAt, answering: true };
        await vault.set(key(clientId), record);
      }
      const hold = context.answered.then(async (answered) => {
        active.delete(clientId);
        delete record.pending;
        if (answered) {
          record.secret = fresh;
          // Nothing earlier can still land: the secret need not be kept.
          if (record.settlesAt === undefined || Date.parse(record.settlesAt) <= Date.now()) return vault.delete(key(clientId));
        }
        await vault.set(key(clientId), record);
        await background
          .run('putting back the secret Konnect holds', (cleanup) => settle(clientId, cleanup))
          .catch(() => settleLater(clientId));
      });
      background.track(hold);
      return { result: fresh, hold };
    },

    async settleAll({ shared }) {
      const records = await vault.list<RestoreRecord>(RESTORE_PREFIX);
      return settleEach(
        records.map(([, record]) => record.clientId),
        { background, locks, logger },
        (clientId, context) => settle(clientId, context, { shared }),
      );
    },
  };
}

function replacing<Client>(
  options: RotationOptions<Client>,
  rotateSecret: NonNullable<IdpPrimitives<Client>['rotateSecret']>,
): Rotation<Client> {
  const { idp, journal, orNotFound, background, locks } = options;
  const logger = options.logger.child({ rotation: 'replace' });
  const key = (clientId: string) => `${ROTATION_PREFIX}${clientId}`;
  const active = new Set<string>();
  const replaced = (clientId: string, why: string) =>
    logger.warn(
      `Konnect may still hold the client's old secret, which ${idp.idpName} replaced (${why}): ${idp.idpName} can neither keep two secrets nor have one put back. If the application's calls fail, rotate its secret again in Konnect.`,
      { clientId },
    );
  return {
    mode: 'replace',
    async rotate(clientId, client, context) {
      // Journaled only so that a rotation under way when the process dies is logged by the next one.
      await journal.set(key(clientId), { clientId, pending: { startedAt: new Date().toISOString() } });
      active.add(clientId);
      let fresh: string;
      try {
        fresh = await orNotFound(clientId, context, () => rotateSecret(clientId, client, context));
      } catch (error) {
        active.delete(clientId);
        if (maybeDone(error)) replaced(clientId, `the rotation failed with ${isBridgeError(error) ? error.code : 'an unexpected error'}`);
        await journal.delete(key(clientId));
        throw error;
      }
      const hold = context.answered.then(async (answered) => {
        active.delete(clientId);
        if (!answered) replaced(clientId, 'Konnect did not get the answer');
        await journal.delete(key(clientId));
      });
      background.track(hold);
      return { result: fresh, hold };
    },
    async settleAll({ shared }) {
      let settled = 0;
      for (const [, record] of await journal.list<{ clientId: string; pending: PendingRotation }>(ROTATION_PREFIX)) {
        const { clientId } = record;
        if (active.has(clientId) || (shared && Date.parse(record.pending.startedAt) + options.inFlightMs() > Date.now())) continue;
        await locks.run(clientId, async () => {
          if ((await journal.get(key(clientId))) === undefined) return;
          replaced(clientId, 'its process stopped during the rotation');
          await journal.delete(key(clientId));
          settled++;
        });
      }
      return settled;
    },
  };
}

/**
 * Settles each client's rotation record under its lock, retrying until done or close(); how many it finished.
 * What close() cuts short stays in the journal for the next start.
 */
async function settleEach(
  clientIds: string[],
  { background, locks, logger }: { background: BackgroundWork; locks: ClientLocks; logger: Logger },
  settle: (clientId: string, context: OperationContext) => Promise<boolean>,
): Promise<number> {
  let settled = 0;
  await Promise.all(
    clientIds.map(async (clientId) => {
      const done = await background.retry('finishing a rotation', logger.child({ clientId }), async (context) => {
        if (await locks.run(clientId, () => settle(clientId, context))) settled++;
      });
      if (!done) logger.warn('shutting down before a rotation was finished: the next start finishes it', { clientId });
    }),
  );
  return settled;
}

/** The newest secret: by `createdAt` where the IdP gives it, else the last listed. */
function newest(secrets: IdpSecret[]): IdpSecret {
  return secrets.reduce((latest, secret) =>
    secret.createdAt !== undefined && latest.createdAt !== undefined && secret.createdAt < latest.createdAt ? latest : secret,
  );
}

function nextDue(record: SecretsRecord): number | undefined {
  const times = [...record.overlap.map((entry) => Date.parse(entry.until)), ...(record.settlesAt ? [Date.parse(record.settlesAt)] : [])];
  return times.length === 0 ? undefined : Math.min(...times);
}

function isDue(record: SecretsRecord, now: number): boolean {
  const due = nextDue(record);
  return record.held.length > 1 ? due !== undefined && due <= now : due === undefined || due <= now;
}
