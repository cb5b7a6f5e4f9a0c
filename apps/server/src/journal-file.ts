import { channel } from 'node:diagnostics_channel';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, fsyncSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { StoreDriver } from '@dcr-bridge/core';
import { CHANNELS, type StoreMessage } from '@dcr-bridge/core/http';
// The owner claim alone: the package's index would also load SQLite's WebAssembly, which the journal never needs.
import { claimStoreFile } from '@dcr-bridge/store-sqlite/owner';

/**
 * The lifecycle's create journal as an append-only file of JSON lines: `{"k":key,"v":value}` sets,
 * `{"k":key,"d":1}` deletes. A handful of small entries live at a time (one per create under way), so
 * the file is read whole at open, then kept in memory; writes append and resolve once `fdatasync` has put
 * them on disk. Why not the SQLite store: its WebAssembly build writes and syncs on the event loop
 * (every request waits for the disk), and loading it costs tens of MB the stateless adapters never need.
 *
 * - Durable: a set resolves after its line is synced, so a crash (or SIGKILL, or power loss) after an
 *   answer never loses the entry. Group commit: the lines are appended in batches (the writes issued while
 *   the previous batch was written), and one `fdatasync` started after a batch's write covers all of it;
 *   up to two syncs run at once (`SYNCS_IN_FLIGHT`). Each sync is published on core's store channel
 *   (`{store: 'journal-file', operation: 'sync'}`: `dcr_bridge_store_operations_total` counts them, so
 *   writes per sync is the group commit's yield). A delete resolves once written, unsynced (it survives SIGKILL, not power loss): losing one only makes
 *   recovery look at a finished entry again, which it settles without harm (undo finds nothing to delete;
 *   an answered create is kept and logged).
 * - Crash-tolerant: a torn last line (a write cut by a crash) is ignored at open; nothing after it was
 *   ever acknowledged.
 * - Bounded: at open, and whenever the appended lines outgrow what is live, the file is rewritten with
 *   the live entries only (to a temporary file, synced, renamed over it).
 * - One process per file, as for the SQLite store (the same owner record, `<file>.owner`).
 */
const COMPACT_AFTER_BYTES = 1024 * 1024;
/**
 * Syncs under way at once. A write waits for a sync started after it; with one sync at a time (the classic group
 * commit), a write made while a sync runs waits for the rest of it and then a whole next one. Two at once cut that
 * wait at moderate concurrency (measured: create p50 4.8 → 2.6 ms with 5 creates at a time on the bench disk) and
 * change nothing at 50; more would take the rest of libuv's thread pool (4 threads), which DNS lookups share.
 */
const SYNCS_IN_FLIGHT = 2;
const storeChannel = channel(CHANNELS.store);

/** Each sync on the store channel (`{store: 'journal-file', operation: 'sync'}`): how many writes shared one is the group commit's yield. */
function publishSync(ok: boolean, started: number): void {
  if (storeChannel.hasSubscribers)
    storeChannel.publish({
      store: 'journal-file',
      operation: 'sync',
      ok,
      seconds: (performance.now() - started) / 1000,
    } satisfies StoreMessage);
}

interface Write {
  line: string;
  durable: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export async function openJournalFile(path: string): Promise<StoreDriver> {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  const release = claimStoreFile(file);
  let handle: FileHandle;
  const entries = new Map<string, string>();
  try {
    replay(readFileSync(file, 'utf8'), entries);
    rewrite(file, entries);
    handle = await open(file, 'a', 0o600);
  } catch (error) {
    release();
    throw error;
  }

  let appended = 0;
  let waiting: Write[] = [];
  let writing: Promise<void> | undefined;
  let failure: unknown;
  let closed = false;

  let syncing = 0;
  // flush() sleeps until a sync ends or a write arrives.
  let wake: (() => void) | undefined;
  const woken = () => new Promise<void>((resolve) => (wake = resolve));
  const wakeFlush = () => {
    wake?.();
    wake = undefined;
  };
  const settle = (batch: Write[], error?: unknown) => {
    failure = error;
    for (const write of batch)
      if (error === undefined) write.resolve();
      else write.reject(error);
  };

  /** Resolves the batch's writes once a sync started after them has returned. */
  function sync(batch: Write[]): void {
    syncing++;
    const started = performance.now();
    void handle
      .datasync()
      .then(
        () => (publishSync(true, started), settle(batch)),
        (error: unknown) => (publishSync(false, started), settle(batch, error)),
      )
      .finally(() => {
        syncing--;
        wakeFlush();
      });
  }

  async function compact(): Promise<void> {
    while (syncing > 0) await woken();
    await handle.close();
    try {
      rewrite(file, entries);
      appended = 0;
    } finally {
      handle = await open(file, 'a', 0o600);
    }
  }

  async function flush(): Promise<void> {
    for (;;) {
      if (waiting.length === 0 && syncing === 0) break;
      if (waiting.length === 0 || syncing >= SYNCS_IN_FLIGHT) {
        await woken();
        continue;
      }
      const batch = waiting;
      waiting = [];
      const text = batch.map((write) => write.line).join('');
      try {
        await handle.write(text);
        appended += Buffer.byteLength(text);
      } catch (error) {
        settle(batch, error);
        continue;
      }
      if (batch.some((write) => write.durable)) sync(batch);
      else settle(batch);
      if (appended > COMPACT_AFTER_BYTES) await compact().catch((error: unknown) => (failure = error));
    }
    writing = undefined;
  }

  function append(record: { k: string; v?: string; d?: 1 }, durable: boolean): Promise<void> {
    if (closed) return Promise.reject(new Error(`The journal ${file} is closed.`));
    return new Promise<void>((resolve, reject) => {
      waiting.push({ line: `${JSON.stringify(record)}\n`, durable, resolve, reject });
      if (writing) wakeFlush();
      else writing = flush();
    });
  }

  return {
    get: async (key) => entries.get(key),
    async set(key, value) {
      entries.set(key, value);
      await append({ k: key, v: value }, true);
    },
    async delete(key) {
      if (!entries.delete(key)) return;
      // Written, not synced: a delete a crash loses only makes recovery settle a finished entry again.
      await append({ k: key, d: 1 }, false);
    },
    list: async (prefix) => [...entries].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    async check() {
      if (closed) throw new Error(`The journal ${file} is closed.`);
      if (failure !== undefined)
        throw new Error(`The journal ${file} could not be written: ${(failure as Error).message ?? String(failure)}`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await writing;
      await handle.close();
      release();
    },
  };
}

/** Applies the lines of a journal file in order, up to the first that does not parse (a torn tail). */
function replay(text: string, entries: Map<string, string>): void {
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let record: { k?: unknown; v?: unknown; d?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      return;
    }
    if (typeof record.k !== 'string') return;
    if (record.d === 1) entries.delete(record.k);
    else if (typeof record.v === 'string') entries.set(record.k, record.v);
  }
}

/** Replaces the file with the live entries: a synced temporary file renamed over it, then the directory synced. */
function rewrite(file: string, entries: Map<string, string>): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, [...entries].map(([k, v]) => `${JSON.stringify({ k, v })}\n`).join(''), { mode: 0o600 });
  const written = openSync(temporary, 'r');
  try {
    fsyncSync(written);
  } finally {
    closeSync(written);
  }
  renameSync(temporary, file);
  const directory = openSync(dirname(file), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}
