/** Every error code of the bridge with the HTTP status it answers (see `BridgeError` in errors.ts). */
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
