import { redact } from './redact.js';

/**
 * The logger every package writes through. Libraries never use `console`: they receive a Logger (the
 * server gives them its structured JSON logger; tests give them a capturing one). Fields are redacted
 * by the implementation, so a caller that passes a whole IdP response cannot leak a secret.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
  /** Whether lines of `level` are written: lets a caller skip building fields nobody will read (optional). */
  isLevelEnabled?(level: LogLevel): boolean;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVELS;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where lines go; default process.stdout. */
  write?: (line: string) => void;
  bindings?: LogFields;
  now?: () => Date;
}

/** One JSON object per line: `{time, level, msg, ...bindings, ...fields}`, secrets redacted. */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? (() => new Date());
  return bindingLogger(
    (level) => LEVELS[level] >= threshold,
    (level, message, fields) =>
      write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...(redact(fields) as LogFields) })}\n`),
    options.bindings,
  );
}

/**
 * A `Logger` over one line writer: `child` bindings are merged under each line's own fields (a field wins
 * over a binding of the same name), and `write` is called only for the levels `enabled` lets through.
 * Core's JSON logger and the server's pino logger share it.
 */
export function bindingLogger(
  enabled: (level: LogLevel) => boolean,
  write: (level: LogLevel, message: string, fields: LogFields) => void,
  bindings: LogFields = {},
): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (enabled(level)) write(level, message, { ...bindings, ...fields });
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (more) => bindingLogger(enabled, write, { ...bindings, ...more }),
    isLevelEnabled: enabled,
  };
}

/** A logger that drops everything: the default for library code whose caller gave none. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
