import type { LogFields, LogLevel, Logger } from '@dcr-bridge/core';
import { REDACTED, bindingLogger, isSecretKey, redact, redactText } from '@dcr-bridge/core/http';
import pino from 'pino';

/**
 * The process's logger: core's `Logger` on pino, writing to stdout through an asynchronous destination
 * (sonic-boom: each line goes to the file descriptor from libuv's thread pool, as soon as the previous
 * write is done, so a line never waits for a buffer to fill and the event loop never waits for the pipe).
 *
 * The lines are core's `createJsonLogger` lines: `time` (ISO), `level` (its name), `msg`, the child
 * bindings and the fields, a field winning over a binding of the same name, redacted by core's `redact`.
 * pino orders the keys `level, time, …bindings and fields, msg`.
 */
export interface ProcessLogger extends Logger {
  /**
   * Resolves once every line logged so far has been written to the destination (or the destination
   * failed). Await it before `process.exit`: an asynchronous write still under way would be lost.
   */
  flush(): Promise<void>;
}

/** pino's asynchronous destination, or, in tests, anything that takes lines. */
export type LogDestination = ReturnType<typeof pino.destination> | { write(line: string): void };

export interface ProcessLoggerOptions {
  level?: LogLevel;
  /** Default: `pino.destination({ dest: 1, sync: false })`, i.e. stdout, asynchronously. */
  destination?: LogDestination;
  now?: () => Date;
}

/**
 * Field names pino censors itself at the top of a line, and the header names it censors in a `headers`
 * field: the usual spellings of what core's `isSecretKey` matches. Core's `redact` runs first and already
 * replaces every field whose name `isSecretKey` matches, at any depth; these paths keep the secrets people
 * log most out of a line even if a field reached pino's serialiser some other way. No wildcard paths: a
 * leading `*` makes pino run its redaction over every field of every line (about 35 µs a line).
 */
export const SECRET_FIELDS = [
  'client_secret',
  'clientSecret',
  'secret',
  'registration_access_token',
  'registrationAccessToken',
  'initial_access_token',
  'initialAccessToken',
  'access_token',
  'accessToken',
  'refresh_token',
  'id_token',
  'token',
  'client_assertion',
  'password',
  'authorization',
  'Authorization',
  'x-api-key',
  'X-API-KEY',
  'apiKey',
  'api_key',
  'private_key',
  'privateKey',
  'credentials',
  'cookie',
  'set-cookie',
  'key',
  'signature',
] as const;

const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'] as const;

export const SECRET_PATHS = [...SECRET_FIELDS.map((name) => `["${name}"]`), ...SECRET_HEADERS.map((name) => `headers["${name}"]`)];

// Core's rule: a secret-named field that is null or absent stays so.
const censor = (value: unknown) => (value === null || value === undefined ? value : REDACTED);

// `name=value` in query strings, form bodies and free text; `\"name\":\"value\"` in JSON carried inside a
// string (an IdP's answer quoted in a message); user info in a URL. Applied to the finished line, so the
// values here are as JSON escapes them: a value stops at a quote or a backslash.
const PAIR = /([\w.~[\]-]+)=([^&\s"\\]*)/g;
const QUOTED_MEMBER = /(\\"([\w.~-]+)\\"\s*:\s*\\")([^"\\]*)(\\")/g;
const USER_INFO = /\/\/[^/?#\s"\\@]+@/g;
const CENSORED = new Set([REDACTED, encodeURIComponent(REDACTED)]);

/** Credentials that core's `redactText` does not know, masked in a finished JSON line. */
export function redactLine(line: string): string {
  let out = line;
  if (out.includes('=')) {
    out = out.replace(PAIR, (pair, name: string, value: string) =>
      value !== '' && !CENSORED.has(value) && isSecretKey(name) ? `${name}=${REDACTED}` : pair,
    );
  }
  if (out.includes('\\"')) {
    out = out.replace(QUOTED_MEMBER, (member, head: string, name: string, value: string, tail: string) =>
      value !== '' && !CENSORED.has(value) && isSecretKey(name) ? `${head}${REDACTED}${tail}` : member,
    );
  }
  if (out.includes('@')) out = out.replace(USER_INFO, `//${REDACTED}@`);
  return out;
}

export function createProcessLogger(options: ProcessLoggerOptions = {}): ProcessLogger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  const now = options.now ?? (() => new Date());
  const root = pino(
    {
      level: options.level ?? 'info',
      // No pid or hostname: the lines carry what core's logger puts in them.
      base: null,
      timestamp: () => `,"time":"${now().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        // Core's rules: secret-named fields at any depth, credentials in text, Errors as {name, message, code, cause}.
        log: (fields) => redact(fields) as LogFields,
      },
      // Errors are already plain objects (above); pino's own error serialiser would add `type` and `stack`.
      serializers: { err: (value: unknown) => value },
      redact: { paths: SECRET_PATHS, censor },
      hooks: { streamWrite: redactLine },
    },
    destination,
  );

  const logger = bindingLogger(
    (level) => root.isLevelEnabled(level),
    (level, message, fields) => root[level](fields, redactText(message)),
  );
  return { ...logger, flush: () => flush(destination) };
}

/**
 * pino's own `flush` does not wait when the destination writes every line at once (sonic-boom's
 * `minLength` 0, the default): an empty write queued behind the pending ones does, as sonic-boom emits
 * `drain` once it has written everything it holds.
 */
function flush(destination: LogDestination): Promise<void> {
  if (!('flushSync' in destination)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      destination.off('drain', done).off('error', done).off('close', done);
      resolve();
    };
    destination.once('drain', done).once('error', done).once('close', done);
    try {
      destination.write('');
    } catch {
      // Ended already (pino ends it when the event loop empties): nothing is left to write.
      done();
    }
  });
}
