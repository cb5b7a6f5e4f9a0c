import type { ChildProcessByStdio } from 'node:child_process';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';

/** A TCP port free on 127.0.0.1 now: the container tests start the server (in the image or not) on it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The server's process as the container tests watch it: its output so far, its exit code, and its `listening`
 * log line (which rejects with the output when the process exits first).
 */
export function watchServer(child: ChildProcessByStdio<null, Readable, Readable>, what: string) {
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (output.stdout += chunk));
  child.stderr.on('data', (chunk) => (output.stderr += chunk));
  // 'close', not 'exit': the exit code once the output pipes are drained too, so the last log lines are read.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (output.stdout.includes('"msg":"listening"')) resolve();
    });
    void exited.then((code) => reject(new Error(`${what} exited with ${code} before listening:\n${output.stdout}\n${output.stderr}`)));
  });
  return { output, exited, listening };
}
