import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Starts the real server process (src/bin.ts through tsx) and waits for its "listening" line. */
export interface BridgeProcess {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const serverDir = fileURLToPath(new URL('..', import.meta.url));

/** `dcr-bridge <args>` as a process: src/bin.ts through tsx, with only the environment given (and PATH, HOME). */
function spawnBin(args: string[], env: Record<string, string>, cwd = serverDir) {
  return spawn(
    process.execPath,
    ['--conditions=@dcr-bridge/source', '--import', 'tsx', fileURLToPath(new URL('../src/bin.ts', import.meta.url)), ...args],
    {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

export function runBridgeProcess(
  env: Record<string, string>,
  options: { waitForListening?: boolean; cwd?: string } = {},
): Promise<BridgeProcess> {
  // A journal of its own unless the test names one (a restart on the same files): one process per journal.
  const journal = env.DCR_BRIDGE_JOURNAL ?? join(mkdtempSync(join(tmpdir(), 'dcr-journal-')), 'dcr-bridge.journal');
  const child = spawnBin([], { PORT: '0', HOST: '127.0.0.1', DCR_BRIDGE_JOURNAL: journal, ...env }, options.cwd);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  child.stderr?.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const handle = (url: string): BridgeProcess => ({
    url,
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  });
  if (options.waitForListening === false) return Promise.resolve(handle(''));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the bridge did not start in 30 s:\n${out}\n${err}`));
    }, 30_000);
    const onData = () => {
      const line = out.split('\n').find((candidate) => candidate.includes('"msg":"listening"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(handle((JSON.parse(line) as { url: string }).url));
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the bridge exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
}

/** Runs `dcr-bridge <args>` (src/bin.ts through tsx) to its end: exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnBin(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dcr-bridge ${args.join(' ')} did not end in 30 s:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
