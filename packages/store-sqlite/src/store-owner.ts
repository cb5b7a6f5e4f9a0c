import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

interface OwnerRecord {
  pid: number;
  hostname: string;
  startedAt: string;
  bootId?: string;
}

/** How long a record that does not parse may still be in the middle of being written by its owner. */
const WRITE_GRACE_MS = 5_000;
const RETRY_MS = 100;
// Enough attempts for such a record to age past the grace period before we give up.
const MAX_ATTEMPTS = 2 * (WRITE_GRACE_MS / RETRY_MS);

/** The owner records held by drivers of this process. */
const held = new Set<string>();

/**
 * Makes this process the single owner of a store file, through the record `<file>.owner`, and removes
 * the `<file>.lock` directory (SQLite-WASM's lock) that a crashed owner left behind. Throws when a live
 * process holds the file, or one on another host that cannot be checked. Returns the release function.
 */
export function claimStoreFile(file: string): () => void {
  const ownerFile = `${file}.owner`;
  if (held.has(ownerFile)) {
    throw new Error(`The state store ${file} is already open in this process: only one driver may use one store file.`);
  }
  const me: OwnerRecord = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), bootId: readBootId() };
  const record = JSON.stringify(me);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (createExclusive(ownerFile, record)) {
      held.add(ownerFile);
      const release = () => {
        held.delete(ownerFile);
        rmSync(ownerFile, { force: true });
      };
      try {
        // The record was ours to create, so no live process holds the file: a lock directory is a crash's.
        ifPresent(() => rmdirSync(`${file}.lock`));
      } catch (error) {
        release();
        throw error;
      }
      return release;
    }
    const current = readIfPresent(ownerFile);
    if (current === undefined) continue;
    const holder = parseRecord(current.raw);
    if (holder === undefined) {
      if (current.ageMs < WRITE_GRACE_MS) {
        sleep(RETRY_MS);
        continue;
      }
    } else if (isAlive(holder, me, file)) {
      throw new Error(
        `The state store ${file} is in use by process ${holder.pid} on ${holder.hostname} (since ${holder.startedAt}): ` +
          'only one bridge process may use one store file. Stop that process, or give this one another store file.',
      );
    }
    discardStale(ownerFile, current.raw);
  }
  throw new Error(`Could not take over the state store ${file}: its owner record ${ownerFile} keeps changing.`);
}

function isAlive(holder: OwnerRecord, me: OwnerRecord, file: string): boolean {
  if (holder.hostname !== me.hostname) {
    throw new Error(
      `The state store ${file} is in use by process ${holder.pid} on host ${holder.hostname}, which ${me.hostname} cannot check: ` +
        `only one bridge process may use one store file. Stop that process; if it is certainly dead, delete ${file}.owner and ${file}.lock.`,
    );
  }
  if (holder.bootId !== undefined && me.bootId !== undefined && holder.bootId !== me.bootId) return false;
  // Our pid, but not a record of this process (checked before): an earlier life, e.g. pid 1 of a restarted container.
  if (holder.pid === me.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes a stale record. It is renamed aside first and compared with what was judged: if another process
 * has taken the file over since we read it, the record moved is that live owner's, and goes straight back.
 */
function discardStale(ownerFile: string, stale: string): void {
  const aside = `${ownerFile}.${process.pid}.stale`;
  if (!ifPresent(() => renameSync(ownerFile, aside))) return;
  const moved = readFileSync(aside, 'utf8');
  if (moved !== stale) createExclusive(ownerFile, moved);
  rmSync(aside);
}

function createExclusive(path: string, content: string): boolean {
  try {
    writeFileSync(path, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readIfPresent(path: string): { raw: string; ageMs: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return { raw: readFileSync(fd, 'utf8'), ageMs: Date.now() - fstatSync(fd).mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** Runs a file operation; false when the file is not there. */
function ifPresent(operation: () => void): boolean {
  try {
    operation();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function parseRecord(raw: string): OwnerRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, hostname, startedAt, bootId } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (typeof hostname !== 'string' || typeof startedAt !== 'string') return undefined;
  if (bootId !== undefined && typeof bootId !== 'string') return undefined;
  return { pid, hostname, startedAt, bootId };
}

function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined; // not Linux: the pid check alone decides
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
