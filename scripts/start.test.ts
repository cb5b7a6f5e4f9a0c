import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from './packed.js';

/**
 * The start commands the READMEs give pass SIGTERM on to the server: an orchestrator signals the process it
 * started, and the server must drain and exit 0, not keep listening behind a wrapper that died. pnpm does not
 * forward a signal through the `sh -c` of a script (the shell dies, its child lives on), so the `start`
 * scripts `exec` their command: no shell stays between pnpm and the server.
 */
const root = join(import.meta.dirname, '..');
const bin = join(root, 'apps', 'server', 'dist', 'bin.js');

beforeAll(async () => {
  // The compiled bin (the README's production start); turbo's cache makes this quick after `pnpm build`.
  await run('pnpm', ['turbo', 'run', 'build', '--filter=@dcr-bridge/server...', '--output-logs=errors-only'], {
    cwd: root,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    maxBuffer: 64 * 2 ** 20,
  });
}, 600_000);

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `command` in dev mode on a free loopback port; resolves once the server logs that it listens. */
async function start(command: string, args: string[]): Promise<Started> {
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', DCR_BRIDGE_API_KEYS: 'start_test_api_key_0123456789' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: what a wrapper leaves running when it dies is still in it, and killed after.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 60 s:\n${output}`)), 60_000);
    const onData = () => {
      const line = output.split('\n').find((candidate) => candidate.includes('"msg":"listening"'));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line.slice(line.indexOf('{'))) as { url: string }).url);
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

/** Whether anything still answers at `url` (the server, whoever its parent was). */
async function listening(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the process the command started; then whether the server still listens, 3 s later at most. */
async function terminate(started: Started): Promise<{ code: number | null; stillListening: boolean }> {
  try {
    started.child.kill('SIGTERM');
    const code = await Promise.race([started.exited, new Promise<'running'>((resolve) => setTimeout(resolve, 15_000, 'running'))]);
    const deadline = Date.now() + 3_000;
    let stillListening = await listening(started.url);
    while (stillListening && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stillListening = await listening(started.url);
    }
    return { code: code === 'running' ? null : code, stillListening };
  } finally {
    try {
      if (started.child.pid !== undefined) process.kill(-started.child.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  }
}

describe('SIGTERM reaches the server through the documented start commands', () => {
  it("the README's production start, node apps/server/dist/bin.js: stops listening and exits 0", { timeout: 90_000 }, async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('node apps/server/dist/bin.js');
    expect(existsSync(bin)).toBe(true);
    const started = await start(process.execPath, [bin]);
    expect(await terminate(started), started.output()).toEqual({ code: 0, stillListening: false });
    expect(started.output()).toContain('"msg":"stopped"');
  });

  it(
    'pnpm start, the signal sent to the outermost pnpm: the server drains, stops listening and pnpm exits 0',
    { timeout: 90_000 },
    async () => {
      const started = await start('pnpm', ['start']);
      const result = await terminate(started);
      expect(result, started.output()).toEqual({ code: 0, stillListening: false });
      expect(started.output()).toContain('"msg":"signal received"');
      expect(started.output()).toContain('"msg":"stopped"');
    },
  );
});
