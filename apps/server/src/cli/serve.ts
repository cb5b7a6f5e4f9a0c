import { existsSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { createProcessLogger } from '../logger.js';
import { startServer } from '../server.js';

/** `dcr-bridge serve`: configuration from the environment, graceful shutdown on SIGTERM/SIGINT. */
export async function serve(): Promise<void> {
  // Kong's example bridge reads ./.env; so do we, and the environment wins over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const result = await loadConfig(process.env);
  if (!result.config) {
    process.stderr.write(
      `dcr-bridge cannot start; fix these settings:\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}\n`,
    );
    process.exitCode = 1;
    return;
  }
  // Lines go to stdout asynchronously: every exit waits for the ones still being written, bounded.
  const logger = createProcessLogger({ level: result.config.logLevel });
  const exit = (code: number, flushLimitMs = FLUSH_LIMIT_MS) => {
    void bounded(logger.flush(), flushLimitMs).then(() => process.exit(code));
  };
  // The handlers are in place before the server listens: a SIGTERM right after the `listening` line (an
  // orchestrator, a test) would otherwise meet Node's default action and kill the process without a drain.
  // During the start nothing has reached the adapter yet (requests are answered 503 `starting`): exit at once.
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn('second signal: exiting now', { signal });
      exit(1);
      return;
    }
    logger.info('signal received', { signal, starting: running === undefined });
    if (!running) return exit(0, STOP_FLUSH_LIMIT_MS);
    running.close().then(
      () => exit(0, STOP_FLUSH_LIMIT_MS),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    running = await startServer(result.config, { logger });
  } catch (error) {
    logger.error('dcr-bridge cannot start', { error });
    process.stderr.write(`dcr-bridge cannot start: ${(error as Error).message}\n`);
    exit(1);
  }
}

/** How long an exit waits for stdout to take the last lines: a reader that stopped reading must not hold the process. */
const FLUSH_LIMIT_MS = 2_000;
/**
 * The same after a signal's shutdown, which has already spent up to CLOSE_LIMIT_MS (1 s) closing the adapter
 * after the last answer: the process ends within 2 s of its last Konnect answer.
 */
const STOP_FLUSH_LIMIT_MS = 900;

function bounded(work: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void work.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
