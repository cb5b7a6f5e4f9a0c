import type { ReadinessReport } from './contract.js';

/**
 * The one error type of the bridge. Every failure that reaches Konnect is a `BridgeError` with a stable
 * `code`; the HTTP layer turns the code into a status in exactly one place (`statusForCode`).
 *
 * Codes follow RFC 7591 §3.2.2 where one fits (`invalid_client_metadata`, `invalid_redirect_uri`) and the
 * bridge's own otherwise. `error_description` (the `description` here) is what a Konnect admin reads when
 * debugging, so it says what to do next. It must never carry a secret.
 */
export const ERROR_CODES = {
  /** The request is malformed: a missing or mistyped field, a path parameter that cannot be a client id. */
  invalid_request: 400,
  /** RFC 7591: a metadata value the IdP cannot accept (grant type, auth method, scope, name). */
  invalid_client_metadata: 400,
  /** RFC 7591: a redirect URI the IdP refuses. */
  invalid_redirect_uri: 400,
  /** A scope that does not exist at the IdP. */
  invalid_scope: 400,
  /** The adapter cannot do this operation (for example an IdP that cannot rotate a secret). */
  unsupported_operation: 400,
  /** Missing or wrong X-API-KEY. */
  unauthorized: 401,
  /** The client exists at the IdP but the bridge did not create it: the bridge will not touch it. */
  client_not_managed: 403,
  /** No such client (rotate, update). Delete never answers this: deleting a gone client succeeds. */
  not_found: 404,
  method_not_allowed: 405,
  /** The IdP already has a conflicting object and the adapter could not work around it. */
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** An adapter threw something that is not a BridgeError: a bug, reported without its details. */
  adapter_failure: 500,
  internal_error: 500,
  /** The IdP answered with an error the adapter did not expect, or refused the bridge's own credentials. */
  idp_error: 502,
  /** The IdP could not be reached or answered 5xx. */
  idp_unavailable: 502,
  /** The IdP rate-limited the bridge; the answer carries Retry-After. */
  idp_rate_limited: 503,
  /** The bridge is not ready to serve (readiness check failed). */
  not_ready: 503,
  /** The store several replicas share (PostgreSQL) cannot be reached; nothing was changed. */
  store_unavailable: 503,
  /** The IdP did not answer within the time budget. */
  idp_timeout: 504,
} as const satisfies Record<string, number>;

export type BridgeErrorCode = keyof typeof ERROR_CODES;

export interface BridgeErrorOptions {
  /** Seconds the caller should wait before trying again (rate limits). */
  retryAfterSeconds?: number;
  /** The underlying error, kept for logs; never serialised to the caller. */
  cause?: unknown;
}

export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  readonly code: BridgeErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: BridgeErrorCode, description: string, options: BridgeErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The HTTP status this error is answered with. */
  get status(): number {
    return statusForCode(this.code);
  }

  /** The body Konnect receives: `{error, error_description}` as the spec's BadRequestResponse. */
  toJSON(): { error: BridgeErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
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
