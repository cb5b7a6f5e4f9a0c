import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteDriver } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const holderScript = fileURLToPath(new URL('fixtures/hold-store.ts', import.meta.url));
const bootIdFile = '/proc/sys/kernel/random/boot_id';

let dir: string;
let path: string;
let children: ChildProcessWithoutNullStreams[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcr-sqlite-owner-'));
  path = join(dir, 'state.sqlite');
});
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  children = [];
  rmSync(dir, { recursive: true, force: true });
});

/** A separate bridge process (test/fixtures/hold-store.ts) that opens the store and holds it. */
function startHolder(): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, path], { cwd: packageDir });
  children.push(child);
  return child;
}

/** 'ready' once the holder has opened the store and written to it, or its stderr if it exits first. */
function started(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n')) resolve('ready');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', () => resolve(stderr));
  });
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function writeOwner(record: object | string, ageMs = 0): void {
  writeFileSync(`${path}.owner`, typeof record === 'string' ? record : JSON.stringify(record), { mode: 0o600 });
  const time = (Date.now() - ageMs) / 1000;
  utimesSync(`${path}.owner`, time, time);
}

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

async function expectUsable(): Promise<void> {
  const driver = createSqliteDriver({ path });
  await driver.set('after', 'takeover');
  expect(await driver.get('after')).toBe('takeover');
  await driver.close();
}

describe('one owner per store file', () => {
  it('opens a file whose holder was killed with SIGKILL, with what it wrote, and writes to it', async () => {
    const child = startHolder();
    expect(await started(child)).toBe('ready');
    child.kill('SIGKILL');
    await exited(child);
    // What a killed process leaves behind: SQLite-WASM's lock directory.
    expect(statSync(`${path}.lock`).isDirectory()).toBe(true);

    const driver = createSqliteDriver({ path });
    expect(await driver.get('written-by-child')).toBe(String(child.pid));
    await driver.set('after', 'crash');
    await driver.close();
    const reopened = createSqliteDriver({ path });
    expect(await reopened.get('after')).toBe('crash');
    await reopened.close();
  });

  it('refuses a file held by a live process, naming it, and opens it once that process has exited', async () => {
    const child = startHolder();
    expect(await started(child)).toBe('ready');
    const message = messageOf(() => createSqliteDriver({ path }));
    expect(message).toContain(path);
    expect(message).toContain(`in use by process ${child.pid} on ${hostname()}`);
    expect(message).toContain('only one bridge process may use one store file');

    child.stdin.end();
    expect(await exited(child)).toBe(0);
    expect(existsSync(`${path}.owner`)).toBe(false);
    const driver = createSqliteDriver({ path });
    expect(await driver.get('written-by-child')).toBe(String(child.pid));
    await driver.close();
  });

  it('lets exactly one of two processes starting at once take over a stale file', async () => {
    writeOwner({ pid: await deadPid(), hostname: hostname(), startedAt: new Date().toISOString() });
    mkdirSync(`${path}.lock`);
    const pair = [startHolder(), startHolder()];
    const outcomes = await Promise.all(pair.map(started));
    const winner = pair[outcomes.indexOf('ready')];
    const loserOutcome = outcomes.find((outcome) => outcome !== 'ready');
    expect(winner).toBeDefined();
    expect(loserOutcome).toContain(`in use by process ${winner?.pid}`);
  });

  it('takes over the record of a dead process and its lock directory', async () => {
    writeOwner({ pid: await deadPid(), hostname: hostname(), startedAt: new Date().toISOString() });
    mkdirSync(`${path}.lock`);
    await expectUsable();
  });

  it('takes over a record with its own pid that it did not write, like pid 1 of a restarted container', async () => {
    writeOwner({ pid: process.pid, hostname: hostname(), startedAt: new Date(0).toISOString() });
    mkdirSync(`${path}.lock`);
    await expectUsable();
  });

  it.skipIf(!existsSync(bootIdFile))('takes over a record from an earlier boot even if its pid is alive now', async () => {
    writeOwner({ pid: process.ppid, hostname: hostname(), startedAt: new Date(0).toISOString(), bootId: 'an-earlier-boot' });
    mkdirSync(`${path}.lock`);
    await expectUsable();
  });

  it('takes over a lock directory left without an owner record', async () => {
    mkdirSync(`${path}.lock`);
    await expectUsable();
  });

  it('takes over a corrupt record older than the grace period', async () => {
    writeOwner('{"pid": 4', 60_000);
    mkdirSync(`${path}.lock`);
    await expectUsable();
  });

  it('waits for a corrupt record to age past the grace period, as it may be being written', async () => {
    writeOwner('', 4_600); // the grace period is 5 s
    const begin = Date.now();
    await expectUsable();
    expect(Date.now() - begin).toBeGreaterThanOrEqual(200);
  });

  it('refuses a file held on another host, saying how to recover, and leaves it alone', async () => {
    const record = { pid: 4242, hostname: 'bridge-elsewhere', startedAt: new Date().toISOString() };
    writeOwner(record);
    mkdirSync(`${path}.lock`);
    const message = messageOf(() => createSqliteDriver({ path }));
    expect(message).toContain('process 4242 on host bridge-elsewhere');
    expect(message).toContain(`Stop that process; if it is certainly dead, delete ${path}.owner and ${path}.lock.`);
    expect(JSON.parse(readFileSync(`${path}.owner`, 'utf8'))).toEqual(record);
    expect(existsSync(`${path}.lock`)).toBe(true);
  });

  it('refuses a second driver on the same file in this process', async () => {
    const driver = createSqliteDriver({ path });
    expect(() => createSqliteDriver({ path })).toThrow(/already open in this process/);
    await driver.set('k', 'v');
    expect(await driver.get('k')).toBe('v');
    await driver.close();
  });

  it('writes its owner record readable by the owner only, and close() removes it and the lock directory', async () => {
    const driver = createSqliteDriver({ path });
    await driver.set('k', 'v');
    expect(statSync(`${path}.owner`).mode & 0o777).toBe(0o600);
    const record = JSON.parse(readFileSync(`${path}.owner`, 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(typeof record.startedAt).toBe('string');
    expect(statSync(`${path}.lock`).isDirectory()).toBe(true);
    await driver.close();
    expect(existsSync(`${path}.owner`)).toBe(false);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
