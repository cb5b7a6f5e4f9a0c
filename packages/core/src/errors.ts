/**
 * The one error type of the bridge. Every failure that reaches Konnect is a `BridgeError` with a stable
 * `code`; the HTTP layer turns the code into a status in exactly one place (`statusForCode`).
 *
 * Codes follow RFC 7591 §3.2.2 where one fits (`invalid_client_metadata`, `invalid_redirect_uri`) and the
 * bridge's own otherwise. It must never carry a secret.
 *
 * **Two audiences.** Konnect shows `error_description` to developers in its Dev Portal; the bridge's log is
 * read by the operator. So a BridgeError has two texts:
 * - its `message`: the detail, for the log only (core logs it with the request id: the IdP's URL, status,
 *   own error text, realm, internal ids, whatever helps an operator act);
 * - its `publicDescription`: what Konnect gets, in words a developer can act on. For the codes in
 *   `PUBLIC_DESCRIPTIONS` (every 5xx code, and `client_not_managed`) it is that table's fixed text, whatever
 *   the message says: no adapter can leak an IdP's internals through them. For the other (4xx) codes it is
 *   the `publicDescription` option when given, else the message; such a text may name values Konnect sent
 *   (a redirect URI, a scope, a client id, a field) and the IdP's product name, never an IdP URL, host,
 *   port, realm, internal id, setting of the bridge's own IdP side, or the IdP's own error text (give those
 *   in the message and a `publicDescription` without them).
 * The HTTP layer answers `{error, error_description: errorAnswer(...)}`: the public description plus the
 * request id (also in the `X-Request-Id` header and on every log line of the request).
 */
import type { ReadinessReport } from './contract.js';
import { ERROR_CODES, type BridgeErrorCode } from './error-codes.js';

export { ERROR_CODES, type BridgeErrorCode };

/**
 * What Konnect's developer reads for the codes whose detail belongs to the operator: every 5xx code (the
 * IdP, the store or the bridge failed; its message names the IdP's URL or echoes its error) and
 * `client_not_managed` (its message describes the bridge's ownership marker at the IdP). The answer ends
 * with the request id the operator looks the detail up by.
 */
export const PUBLIC_DESCRIPTIONS: Partial<Record<BridgeErrorCode, string>> = {
  client_not_managed:
    'This client was not created by the bridge, so the bridge leaves it alone. Manage it where it was created, or ask your platform team.',
  adapter_failure: 'The bridge failed unexpectedly; the request did not complete. Try again later.',
  internal_error: 'The bridge failed unexpectedly; the request did not complete. Try again later.',
  idp_error:
    'The identity provider refused the bridge or answered in a way it did not expect; the request did not complete. Try again later.',
  idp_unavailable: 'The identity provider could not be reached or failed; the request did not complete. Try again later.',
  idp_rate_limited: 'The identity provider is rate-limiting the bridge; the request did not complete. Try again in a little while.',
  not_ready: 'The bridge is not ready to serve requests. Try again later.',
  store_unavailable: 'The bridge could not reach its state store; nothing was changed. Try again later.',
  idp_timeout: 'The identity provider did not answer in time; the request did not complete. Try again in a moment.',
};

export interface BridgeErrorOptions {
  /** Seconds the caller should wait before trying again (rate limits). */
  retryAfterSeconds?: number;
  /** The underlying error, kept for logs; never serialised to the caller. */
  cause?: unknown;
  /**
   * What Konnect reads instead of the message, for a 4xx whose message holds detail for the log (the
   * IdP's own words, an internal id). Ignored for the codes of `PUBLIC_DESCRIPTIONS`.
   */
  publicDescription?: string;
}

export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  readonly code: BridgeErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly #publicDescription: string | undefined;

  /** `description` is the detail for the log; see the class's comment for what Konnect reads. */
  constructor(code: BridgeErrorCode, description: string, options: BridgeErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.#publicDescription = options.publicDescription;
  }

  /** What Konnect's developer reads (without the request id): see the class's comment. */
  get publicDescription(): string {
    return PUBLIC_DESCRIPTIONS[this.code] ?? this.#publicDescription ?? this.message;
  }

  /** The HTTP status this error is answered with. */
  get status(): number {
    return statusForCode(this.code);
  }

  /** `{error, error_description}` with the public description (the HTTP layer adds the request id: `errorAnswer`). */
  toJSON(): ErrorAnswer {
    return { error: this.code, error_description: this.publicDescription };
  }
}

/** The body of every error answer, as the spec's BadRequestResponse. */
export interface ErrorAnswer {
  error: BridgeErrorCode;
  error_description: string;
}

/**
 * The answer Konnect receives for an error: its code and its public description, never its message, with
 * the request id the operator finds the detail under in the log.
 */
export function errorAnswer(error: BridgeError, requestId: string): ErrorAnswer {
  const description = error.publicDescription.trim();
  const sentence = /[.!?]$/.test(description) ? description : `${description}.`;
  const reference =
    error.status >= 500 ? `If it persists, give your platform team the request id ${requestId}.` : `Request id: ${requestId}.`;
  return { error: error.code, error_description: `${sentence} ${reference}` };
}

export function statusForCode(code: BridgeErrorCode): number {
  return ERROR_CODES[code];
}

export function isBridgeError(value: unknown): value is BridgeError {
  return value instanceof BridgeError;
}

/**
 * Turns anything an adapter threw into a BridgeError. Known BridgeErrors pass through; anything else is a
 * bug in the adapter and becomes `adapter_failure` naming the adapter and the operation, without the
 * original message (it may hold IdP internals or secrets). The original stays in `cause` for the logs.
 */
export function toBridgeError(error: unknown, adapterId: string, operation: string): BridgeError {
  if (isBridgeError(error)) return error;
  return new BridgeError(
    'adapter_failure',
    `The ${adapterId} adapter failed unexpectedly during ${operation}. The bridge's logs have the details.`,
    { cause: error },
  );
}

/** The readiness report for a check that threw: its message for the logs, its error code for `/readyz`. */
export function notReady(error: unknown): ReadinessReport {
  return {
    ready: false,
    detail: error instanceof Error ? error.message : String(error),
    reason: isBridgeError(error) ? error.code : 'internal_error',
  };
}
