import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS, type StoreMessage } from '@dcr-bridge/core/http';
import { openJournalFile } from '../src/journal-file.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'dcr-journal-test-')), 'dcr-bridge.journal');

describe('the create journal file', () => {
  it('keeps what was written across a reopen, deletes included, and lists by prefix in key order', async () => {
    const file = fresh();
    const journal = await openJournalFile(file);
    await Promise.all([journal.set('j/b', '2'), journal.set('j/a', '1'), journal.set('other', 'x'), journal.set('j/c', '3')]);
    await journal.delete('j/c');
    await journal.delete('never-set');
    expect(await journal.list('j/')).toEqual([
      ['j/a', '1'],
      ['j/b', '2'],
    ]);
    await journal.close();
    const reopened = await openJournalFile(file);
    expect(await reopened.list('j/')).toEqual([
      ['j/a', '1'],
      ['j/b', '2'],
    ]);
    expect(await reopened.get('other')).toBe('x');
    expect(await reopened.get('j/c')).toBeUndefined();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await reopened.close();
  });

  it('has every acknowledged write in the file when its promise resolves (what a SIGKILL leaves)', async () => {
    const file = fresh();
    const journal = await openJournalFile(file);
    await journal.set('k', 'v1');
    await journal.set('k', 'v2');
    // Read as a killed process's successor would, without closing this one.
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { k: string; v: string });
    expect(lines.at(-1)).toEqual({ k: 'k', v: 'v2' });
    await journal.close();
  });

  it('shares syncs among concurrent writes (group commit), each on disk when it resolves, and publishes every sync', async () => {
    const file = fresh();
    const journal = await openJournalFile(file);
    const syncs: StoreMessage[] = [];
    const listener = (message: unknown) => void syncs.push(message as StoreMessage);
    subscribe(CHANNELS.store, listener);
    try {
      const onDisk = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          await journal.set(`k${i}`, String(i));
          return readFileSync(file, 'utf8').includes(`${JSON.stringify({ k: `k${i}`, v: String(i) })}\n`);
        }),
      );
      expect(onDisk.every(Boolean)).toBe(true);
      await journal.delete('k0');
    } finally {
      unsubscribe(CHANNELS.store, listener);
    }
    expect(syncs.length).toBeGreaterThan(0);
    // 50 writes issued at once: the first batch is one write, the rest share at most two more syncs. The delete syncs nothing.
    expect(syncs.length).toBeLessThanOrEqual(3);
    expect(syncs.every((sync) => sync.store === 'journal-file' && sync.operation === 'sync' && sync.ok && sync.seconds >= 0)).toBe(true);
    await journal.close();
  });

  it('ignores a torn last line left by a crash, and keeps everything before it', async () => {
    const file = fresh();
    writeFileSync(file, `${JSON.stringify({ k: 'a', v: '1' })}\n${JSON.stringify({ k: 'b', v: '2' })}\n{"k":"c","v":"3`);
    const journal = await openJournalFile(file);
    expect(await journal.list('')).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    await journal.set('d', '4');
    await journal.close();
    const reopened = await openJournalFile(file);
    expect((await reopened.list('')).map(([key]) => key)).toEqual(['a', 'b', 'd']);
    await reopened.close();
  });

  it('stays small: the file holds the live entries only after a reopen, and after many writes', async () => {
    const file = fresh();
    const journal = await openJournalFile(file);
    const value = 'x'.repeat(500);
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => journal.set(`k${i}`, value)));
      await Promise.all(Array.from({ length: 100 }, (_, i) => journal.delete(`k${i}`)));
    }
    await journal.set('live', 'yes');
    // 4 000 entries of ~520 bytes were written and deleted: well past the compaction threshold.
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
    await journal.close();
    appendFileSync(file, `${JSON.stringify({ k: 'gone', v: '1' })}\n${JSON.stringify({ k: 'gone', d: 1 })}\n`);
    const reopened = await openJournalFile(file);
    expect(await reopened.list('')).toEqual([['live', 'yes']]);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ k: 'live', v: 'yes' })}\n`);
    await reopened.close();
  });

  it('is used by one driver at a time, and refuses writes once closed', async () => {
    const file = fresh();
    const journal = await openJournalFile(file);
    await expect(openJournalFile(file)).rejects.toThrow('already open in this process');
    await journal.close();
    await expect(journal.set('k', 'v')).rejects.toThrow('is closed');
    await expect(journal.check()).rejects.toThrow('is closed');
    const again = await openJournalFile(file);
    await expect(again.check()).resolves.toBeUndefined();
    await again.close();
  });
});
