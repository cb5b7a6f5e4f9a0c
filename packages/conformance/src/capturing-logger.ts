import type { Logger } from '@dcr-bridge/core';
import { createJsonLogger } from '@dcr-bridge/core/http';

/**
 * The bridge's real JSON logger at debug level, writing into memory, so tests can assert that no
 * secret ever reaches a log line.
 */
export interface CapturedLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface CapturingLogger extends Logger {
  lines: CapturedLine[];
  /** Every line as JSON text, joined. */
  text(): string;
}

export function createCapturingLogger(): CapturingLogger {
  const raw: string[] = [];
  const logger = createJsonLogger({ level: 'debug', write: (line) => void raw.push(line) });
  return {
    ...logger,
    get lines() {
      return raw.map((line) => JSON.parse(line) as CapturedLine);
    },
    text: () => raw.join(''),
  };
}
