import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaStub } from '../apps/server/bench/stub-okta.js';
import { konnectApplication } from '../packages/conformance/src/index.js';
import {
  cleanEnv,
  eachLimited,
  installedAmong,
  installedPackages,
  npmInstall,
  packAll,
  publishableDirs,
  run,
  withOwnDependencies,
  type PackedPackage,
} from './packed.js';
import { writeThirdPartyAdapter } from './third-party-adapter.js';

/**
 * The published packages, proven from the outside: every publishable package is built and packed as it would
 * be published (`pnpm pack`), linted as a package (publint, attw), and installed with npm from its tarball in a
 * fresh directory outside the workspace, where the server's bin serves Konnect's calls with one adapter, an
 * adapter alone loads in plain Node and brings nothing of the server, and an adapter package written by a third
 * party (CONTRIBUTING.md, "Third-party adapters") passes the conformance suite with the packed kit and is served
 * by the packed server. Dependencies that are not ours come from the npm registry, so this test needs it.
 */
const root = join(import.meta.dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

const timings: Array<[string, number]> = [];
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings.push([label, Math.round(performance.now() - started)]);
  }
}

let scratch: string;
let tarballs: string;
let packed: Map<string, PackedPackage>;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'dcr-packages-'));
  tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  await timed('build (turbo)', () =>
    run('pnpm', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
      cwd: root,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      maxBuffer: 64 * 2 ** 20,
    }),
  );
  packed = await timed('pack (pnpm pack, every package)', () => packAll(root, tarballs));
}, 600_000);

afterAll(() => {
  const width = Math.max(...timings.map(([label]) => label.length));
  process.stdout.write(
    `\nscripts/packages.test.ts timings\n${timings.map(([label, ms]) => `  ${label.padEnd(width)}  ${(ms / 1000).toFixed(1)} s`).join('\n')}\n`,
  );
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const tarballOf = (name: string) => (packed.get(name) as PackedPackage).tarball;
/** The tarballs of `names` and of every @dcr-bridge package they need, as `npm install` arguments. */
const tarballsFor = (...names: string[]) => withOwnDependencies(names, packed).map(tarballOf);

// ---- the tarballs ----

describe('the packed packages', () => {
  it('are every publishable package, with published exports and no workspace: range left', () => {
    expect([...packed.values()].map((pkg) => pkg.dir).sort()).toEqual(publishableDirs(root));
    for (const { name, manifest } of packed.values()) {
      expect(JSON.stringify(manifest), name).not.toContain('workspace:');
      expect(Object.keys(manifest.exports ?? {}).length, name).toBeGreaterThan(0);
      expect(JSON.stringify(manifest.exports), name).not.toContain('@dcr-bridge/source');
    }
  });

  it('pass publint --strict (warnings are errors; suggestions are printed)', async () => {
    const problems: string[] = [];
    const suggestions: string[] = [];
    await timed('publint --strict', () =>
      eachLimited([...packed.values()], 4, async ({ name, tarball }) => {
        const bytes = readFileSync(tarball);
        const { messages, pkg } = await publint({
          pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
          strict: true,
          level: 'suggestion',
        });
        for (const message of messages)
          (message.type === 'suggestion' ? suggestions : problems).push(
            `${name}: ${formatMessage(message, pkg, { color: false }) ?? message.code}`,
          );
      }),
    );
    if (suggestions.length > 0) process.stdout.write(`publint suggests:\n${suggestions.join('\n')}\n`);
    expect(problems).toEqual([]);
  });

  /**
   * Every package is ESM only ("type": "module", entry points under `exports`) for Node ≥ 20.19: attw's esm-only
   * profile checks what such a package promises, the types of every entry point under node16 from ESM and under
   * bundler resolution. It leaves out node10 resolution (TypeScript's `moduleResolution: node`, which ignores
   * `exports`) and TypeScript's CommonJS view of an ESM package (`require` of ESM works on Node ≥ 20.19, but its
   * types are not ours to shape).
   */
  it('pass attw (--profile esm-only)', async () => {
    const failures = await timed('attw --profile esm-only', () =>
      eachLimited([...packed.values()], 2, async ({ name, tarball }) => {
        const result = await attw(tarball);
        return result.ok ? undefined : `${name}:\n${result.problems}`;
      }),
    );
    expect(failures.filter(Boolean)).toEqual([]);
  }, 180_000);

  it('the checks themselves: publint fails a package that lacks the types it names, attw one with an untyped entry point or no types', async () => {
    const lint = async (files: Record<string, string>) => {
      const dir = mkdtempSync(join(scratch, 'broken-'));
      mkdirSync(join(dir, 'package'));
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, 'package', file), text);
      const tarball = join(dir, 'broken.tgz');
      await run('tar', ['-czf', tarball, '-C', dir, 'package']);
      const bytes = readFileSync(tarball);
      const { messages } = await publint({
        pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
        strict: true,
      });
      return { publint: messages.map((message) => `${message.type} ${message.code}`), attw: await attw(tarball) };
    };
    const entry = (name: string) => ({ types: `./${name}.d.ts`, default: `./${name}.js` });
    const manifest = (exports: Record<string, unknown>) => JSON.stringify({ name: 'broken', version: '1.0.0', type: 'module', exports });

    const untypedSubpath = await lint({
      'package.json': manifest({ '.': entry('index'), './sub': entry('sub') }),
      'index.js': 'export const a = 1;\n',
      'index.d.ts': 'export declare const a: number;\n',
      'sub.js': 'export const b = 2;\n',
    });
    expect(untypedSubpath.publint).toContain('error FILE_DOES_NOT_EXIST');
    expect(untypedSubpath.attw).toEqual({ ok: false, problems: expect.stringContaining('./sub (node16-esm): UntypedResolution') });

    const noTypes = await lint({ 'package.json': manifest({ '.': entry('index') }), 'index.js': 'export const a = 1;\n' });
    expect(noTypes.attw).toEqual({ ok: false, problems: 'the package contains no types' });
  }, 60_000);
});

/**
 * attw on a tarball with the esm-only profile. Passes when attw exits 0 and found types in the package: attw also
 * exits 0 for a package without any types ("This package does not contain types"), which ours must never be.
 */
async function attw(tarball: string): Promise<{ ok: boolean; problems: string }> {
  let stdout: string;
  let exitedZero = true;
  try {
    ({ stdout } = await run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], { maxBuffer: 64 * 2 ** 20 }));
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    if (!failed.stdout?.startsWith('{')) throw new Error(`attw could not check ${tarball}: ${failed.stderr ?? ''}`);
    stdout = failed.stdout;
    exitedZero = false;
  }
  const { analysis } = JSON.parse(stdout) as {
    analysis: { types: { kind: string } | false; problems?: Array<{ kind: string; entrypoint: string; resolutionKind: string }> };
  };
  const typesIncluded = analysis.types !== false && analysis.types.kind === 'included';
  // What esm-only checks: an entry point imported from ESM under node16, and under bundler resolution.
  const problems = (analysis.problems ?? [])
    .filter((problem) => ['node16-esm', 'bundler'].includes(problem.resolutionKind))
    .map((problem) => `${problem.entrypoint} (${problem.resolutionKind}): ${problem.kind}`);
  return { ok: exitedZero && typesIncluded, problems: typesIncluded ? problems.join('\n') : 'the package contains no types' };
}

// ---- installed with npm, outside the workspace ----

/** What an install of the server and one adapter must not bring: the other adapters, their SDKs, the PostgreSQL store. */
const NOT_WITH_SERVER_AND_OKTA = [
  '@aws-sdk/*',
  '@dcr-bridge/adapter-keycloak',
  '@dcr-bridge/adapter-pingone',
  '@dcr-bridge/adapter-pingfederate',
  '@dcr-bridge/adapter-cognito',
  '@dcr-bridge/store-postgres',
  'pg',
];
/** What an adapter alone must not bring: the HTTP layer, the dev IdP, the stores' drivers, the other IdPs' SDKs. */
const NOT_WITH_AN_ADAPTER_ALONE = ['express', '@types/express', 'oidc-provider', 'pg', '@aws-sdk/*', '@dcr-bridge/server'];

/** Every @dcr-bridge package of an install came from one of our tarballs, never from the registry. */
function fromTheRegistry(dir: string): string[] {
  return installedPackages(dir)
    .filter((pkg) => pkg.name.startsWith('@dcr-bridge/') && !pkg.resolved?.startsWith('file:'))
    .map((pkg) => `${pkg.path} (${pkg.resolved ?? 'no source'})`);
}

interface RunningBin {
  port: number;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body?: Record<string, string> }>;
  stop(): Promise<number | null>;
}

/**
 * The installed `dcr-bridge` command (the bin link npm made), started in `dir` with `env` and an API key, on a
 * free loopback port; resolves once it logs that it listens.
 */
async function startBin(dir: string, env: Record<string, string>): Promise<RunningBin> {
  const apiKey = `packages_test_${randomBytes(12).toString('hex')}`;
  const child = spawn(join(dir, 'node_modules', '.bin', 'dcr-bridge'), [], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env, DCR_BRIDGE_API_KEYS: apiKey, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const listening = stdout.split('\n').find((line) => line.includes('"msg":"listening"'));
      if (listening) resolve((JSON.parse(listening) as { port: number }).port);
    });
    void exited.then((code) => reject(new Error(`dcr-bridge exited with ${code} before listening:\n${stdout}\n${stderr}`)));
  });
  return {
    port,
    async call(method, path, body) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { 'x-api-key': apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, string>) : undefined };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('installed with npm from the tarballs, outside the workspace', () => {
  it('the server and adapter-okta: the bin starts, serves create, rotate and delete against Okta, and brings no other adapter', async () => {
    const dir = join(scratch, 'server-okta');
    await timed('npm install server + adapter-okta', () => npmInstall(dir, tarballsFor('@dcr-bridge/server', '@dcr-bridge/adapter-okta')));
    const installed = installedPackages(dir);
    expect(installedAmong(installed, ['@dcr-bridge/server', '@dcr-bridge/adapter-okta', '@dcr-bridge/core'])).toEqual([
      'node_modules/@dcr-bridge/adapter-okta',
      'node_modules/@dcr-bridge/core',
      'node_modules/@dcr-bridge/server',
    ]);
    expect(installedAmong(installed, NOT_WITH_SERVER_AND_OKTA)).toEqual([]);
    expect(fromTheRegistry(dir)).toEqual([]);

    const { stdout: version } = await run(join(dir, 'node_modules', '.bin', 'dcr-bridge'), ['--version'], { cwd: dir, env: cleanEnv() });
    expect(version.trim()).toBe(packed.get('@dcr-bridge/server')?.manifest.version);

    const okta = await startOktaStub();
    try {
      await timed('server + okta: start and Konnect flow', async () => {
        const started = await startBin(dir, okta.env);
        try {
          const created = await started.call('POST', '/', konnectApplication());
          expect(created.status).toBe(201);
          const clientId = created.body?.client_id as string;
          expect(clientId).toMatch(/^0oa/);
          const rotated = await started.call('POST', `/${clientId}/new-secret`);
          expect(rotated.status).toBe(200);
          expect(rotated.body?.client_secret).toEqual(expect.any(String));
          expect(rotated.body?.client_secret).not.toBe(created.body?.client_secret);
          expect((await started.call('DELETE', `/${clientId}`)).status).toBe(204);
        } finally {
          expect(await started.stop()).toBe(0);
        }
      });
      expect(okta.requests()).toContainEqual(expect.stringMatching(/^DELETE \/oauth2\/v1\/clients\/0oa/));
    } finally {
      await okta.close();
    }
  }, 300_000);

  it('adapter-okta alone (with core, its peer): imports in plain Node and brings no HTTP layer, dev IdP or other SDK', async () => {
    const dir = join(scratch, 'okta-alone');
    await timed('npm install adapter-okta alone', () => npmInstall(dir, tarballsFor('@dcr-bridge/adapter-okta')));
    const installed = installedPackages(dir);
    expect(installedAmong(installed, ['@dcr-bridge/*'])).toEqual([
      'node_modules/@dcr-bridge/adapter-okta',
      'node_modules/@dcr-bridge/core',
    ]);
    expect(installedAmong(installed, NOT_WITH_AN_ADAPTER_ALONE)).toEqual([]);
    expect(fromTheRegistry(dir)).toEqual([]);
    const script =
      "const { dcrBridgeAdapter, createOktaAdapter } = await import('@dcr-bridge/adapter-okta'); console.log(dcrBridgeAdapter.id, typeof createOktaAdapter);";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: cleanEnv() });
    expect(stdout.trim()).toBe('okta function');
  }, 300_000);

  it('a third-party adapter package (CONTRIBUTING.md): typechecks, builds and passes the packed conformance suite, and the packed server serves it by package name', async () => {
    const name = '@acme/dcr-bridge-adapter-acme';
    const versionOf = (pkg: string) =>
      (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    const dir = writeThirdPartyAdapter({
      root,
      scratch: join(scratch, 'third-party'),
      name,
      id: 'acme',
      display: 'Acme',
      devDependencies: {
        '@dcr-bridge/core': `file:${tarballOf('@dcr-bridge/core')}`,
        '@dcr-bridge/conformance': `file:${tarballOf('@dcr-bridge/conformance')}`,
        vitest: versionOf('vitest'),
        typescript: versionOf('typescript'),
        '@types/node': versionOf('@types/node'),
      },
    });
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).not.toContain('workspace:');
    await timed('npm install (third-party adapter)', () => npmInstall(dir, []));
    expect(fromTheRegistry(dir)).toEqual([]);

    const npm = (...args: string[]) => run('npm', args, { cwd: dir, env: cleanEnv(), maxBuffer: 64 * 2 ** 20 });
    await timed('third party: typecheck (tsc)', () => npm('run', 'typecheck'));
    await timed('third party: build (tsc)', () => npm('run', 'build'));
    const report = join(dir, 'vitest-report.json');
    await timed('third party: vitest run', () =>
      npm('test', '--', '--reporter=dot', '--reporter=json', `--outputFile.json=${report}`),
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`the third-party adapter's tests failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    const results = JSON.parse(readFileSync(report, 'utf8')) as {
      numFailedTests: number;
      numPassedTests: number;
      testResults: Array<{ name: string; status: string }>;
    };
    expect(results.numFailedTests).toBe(0);
    expect(results.testResults.map((file) => [file.name.slice(dir.length + 1), file.status]).sort()).toEqual([
      ['test/conformance.test.ts', 'passed'],
    ]);
    expect(results.numPassedTests).toBeGreaterThan(10);

    const { stdout: packedName } = await npm('pack', '--pack-destination', tarballs, '--json');
    const [thirdPartyTarball] = JSON.parse(packedName) as Array<{ filename: string; files: Array<{ path: string }> }>;
    expect(
      thirdPartyTarball?.files
        .map((file) => file.path)
        .filter((path) => !path.startsWith('dist/'))
        .sort(),
    ).toEqual(['LICENSE', 'README.md', 'package.json']);

    const serverDir = join(scratch, 'server-third-party');
    await timed('npm install server + third-party adapter', () =>
      npmInstall(serverDir, [...tarballsFor('@dcr-bridge/server'), join(tarballs, thirdPartyTarball?.filename as string)]),
    );
    expect(installedAmong(installedPackages(serverDir), ['@dcr-bridge/adapter-*', '@acme/*'])).toEqual([
      'node_modules/@acme/dcr-bridge-adapter-acme',
      'node_modules/@dcr-bridge/adapter-rfc7591',
    ]);

    // The template's adapter takes an https URL only: the fake is put behind TLS, its certificate given to Node
    // the way an operator trusts a private CA.
    const fake = await startThirdPartyFake(dir);
    try {
      const tls = await startTlsFront(join(scratch, 'tls'), Number(new URL(fake.url).port));
      try {
        await timed('server + third-party adapter: start and create', async () => {
          const server = await startBin(serverDir, {
            DCR_BRIDGE_ADAPTER: name,
            ACME_URL: tls.url,
            ACME_API_TOKEN: fake.apiToken,
            NODE_EXTRA_CA_CERTS: tls.certificateFile,
          });
          try {
            const created = await server.call('POST', '/', konnectApplication());
            expect(created.status).toBe(201);
            expect(created.body?.client_secret).toEqual(expect.any(String));
            expect((await server.call('DELETE', `/${created.body?.client_id}`)).status).toBe(204);
          } finally {
            expect(await server.stop()).toBe(0);
          }
        });
      } finally {
        await tls.close();
      }
    } finally {
      await fake.stop();
    }
  }, 600_000);
});

/**
 * The third party's own fake IdP (test/fake-acme.ts, from the template), in a process of its own started with
 * tsx: it resolves express and the packed conformance kit from the third party's node_modules. Prints its URL
 * and token.
 */
async function startThirdPartyFake(dir: string): Promise<{ url: string; apiToken: string; stop: () => Promise<void> }> {
  const driver = join(dir, '..', 'serve-fake.mts');
  writeFileSync(
    driver,
    `import { startFakeAcme } from ${JSON.stringify(join(dir, 'test', 'fake-acme.ts'))};
const fake = await startFakeAcme();
process.stdout.write(JSON.stringify({ url: fake.url, apiToken: fake.apiToken }) + '\\n');
`,
  );
  const child = spawn(bin('tsx'), [driver], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const listening = await new Promise<{ url: string; apiToken: string }>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (stdout.includes('\n')) resolve(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as { url: string; apiToken: string });
    });
    void exited.then(() => reject(new Error(`the third party's fake IdP exited before listening:\n${stdout}\n${stderr}`)));
  });
  return {
    ...listening,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * TLS in front of a loopback port: a self-signed certificate for 127.0.0.1 (openssl, as the PostgreSQL store's
 * tests make theirs), and a TLS server that pipes each connection to the port.
 */
async function startTlsFront(dir: string, port: number): Promise<{ url: string; certificateFile: string; close: () => Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const certificateFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certificateFile,
  ]);
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: readFileSync(keyFile), cert: readFileSync(certificateFile) }, (socket) => {
    const upstream = connect(port, '127.0.0.1');
    for (const end of [socket, upstream]) {
      sockets.add(end);
      end.on('close', () => sockets.delete(end));
      end.on('error', () => [socket, upstream].forEach((either) => either.destroy()));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: tlsPort } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${tlsPort}`,
    certificateFile,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
