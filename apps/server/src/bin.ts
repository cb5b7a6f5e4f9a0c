#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { createJsonLogger } from '@dcr-bridge/core';
import { loadConfig } from './config.js';
import { startServer } from './server.js';

/** The dcr-bridge process: configuration from the environment, graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  // Kong's example bridge reads ./.env; so do we, and the environment wins over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const result = await loadConfig(process.env);
  if (!result.config) {
    process.stderr.write(`dcr-bridge cannot start; fix these settings:\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    process.exitCode = 1;
    return;
  }
  const logger = createJsonLogger({ level: result.config.logLevel });
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(result.config, { logger });
  } catch (error) {
    logger.error('dcr-bridge cannot start', { error });
    process.stderr.write(`dcr-bridge cannot start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    logger.info('signal received', { signal });
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
