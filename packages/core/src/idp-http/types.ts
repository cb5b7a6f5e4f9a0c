import type { Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import type { RetryPolicy } from '../retry.js';

/** A method the IdP HTTP client (`createIdpHttpClient`) sends. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Supplies the Authorization header; `rejected` is told when the IdP answered 401 to it. */
export interface AuthorizationSource {
  header(signal?: AbortSignal): Promise<string>;
  rejected?(header: string): void;
}

export interface IdpHttpClientOptions {
  /** Human name used in error messages, e.g. "Keycloak". */
  idpName: string;
  /** Base URL; request paths are appended to it (keep its own path, e.g. `/auth` or `/pf-admin-api/v1`). */
  baseUrl: string | URL;
  /**
   * Where requests go. Default: an undici `Agent` of this client's own (keep-alive, one connection pool per
   * origin), closed by `close()`. Pass one to trust a private CA (`new Agent({connect: {ca}})`), to share a
   * pool, or undici's `MockAgent` in tests; the caller then closes it.
   */
  dispatcher?: Dispatcher;
  /**
   * Ceiling of one attempt. Default 30 000 ms: the operation's own budget (the signal of each request)
   * normally ends an attempt first, so no attempt is cut short while Konnect would still wait for it.
   */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  authorization?: AuthorizationSource;
  /** Sent with every request (e.g. PingFederate's X-XSRF-Header). */
  headers?: Record<string, string>;
  /**
   * The adapter named in the User-Agent, `dcr-bridge/<version> (<adapterId>)`. Default: the adapter whose
   * operation the request is made for (core runs every adapter call in its scope); none outside one.
   */
  adapterId?: string;
  /** Seconds to wait after a 429; default reads Retry-After. Okta reads X-Rate-Limit-Reset instead. */
  retryAfterSeconds?: (response: { status: number; headers: ResponseHeaders }) => number | undefined;
  /** Pulls the IdP's own error message out of an error body, for the error's message (the log, never Konnect). */
  describeErrorBody?: (body: unknown) => string | undefined;
  logger?: Logger;
}

export interface IdpRequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /**
   * Repeating this request is harmless (a PUT of a full representation, a POST the IdP de-duplicates), so
   * it is retried like a GET. PUT and POST are never retried without it: an attempt that failed may have
   * been processed, and some PUTs are not idempotent (an RFC 7592 update rotates the registration token).
   */
  idempotent?: boolean;
  signal?: AbortSignal;
  /**
   * The route template of this call, for metrics and traces (`dcr_bridge_idp_requests_total{route}`, the span's
   * `url.template`), when the target does not carry one: a URL the IdP handed out (`{registration_client_uri}`),
   * a path not built with `path`. A constant: never put an id in it. Default the target's (`path` builds
   * carry theirs), else `other`.
   */
  route?: string;
}

/** The answer's headers, looked up by name in any case; repeated headers are joined with ", ". */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface IdpResponse<T = unknown> {
  status: number;
  ok: boolean;
  headers: ResponseHeaders;
  /** Parsed JSON when the IdP sent JSON, text otherwise, undefined when empty. */
  body: T;
  /** Set on 429: how long the IdP asked us to wait. */
  retryAfterSeconds?: number;
  /**
   * How many times the request was sent (retries and a re-authorized attempt included). A request refused on a
   * repeat may have been refused because of an earlier attempt whose answer was lost: a DELETE answered "gone"
   * then deleted the object itself.
   */
  attempts: number;
  method: HttpMethod;
  /** The path that was requested, for error messages (no query string). */
  path: string;
}
