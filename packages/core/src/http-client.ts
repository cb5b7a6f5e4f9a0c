import type { ReadinessReport } from './contract.js';
import { BridgeError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { redactText, redactUrl } from './redact.js';
import { parseRetryAfter, withRetries, type RetryPolicy } from './retry.js';

/**
 * The HTTP client every adapter uses to talk to its IdP: attempts bounded by the operation's completion
 * budget (the request's signal) and a per-attempt ceiling, bounded retries with backoff and jitter for
 * operations that are safe to repeat only (GET, HEAD, DELETE, and requests marked `idempotent`), Retry-After
 * honoured, one retry with a fresh admin token after a 401, and a debug line per call with secrets redacted. It answers every HTTP status as an
 * `IdpResponse`; transport failures become `idp_unavailable` / `idp_timeout`. `errorFromResponse` turns
 * an unexpected status into the right BridgeError.
 */
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
  fetch?: typeof fetch;
  /**
   * Ceiling of one attempt. Default 30 000 ms: the operation's own budget (the signal of each request)
   * normally ends an attempt first, so no attempt is cut short while Konnect would still wait for it.
   */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  authorization?: AuthorizationSource;
  /** Sent with every request (e.g. PingFederate's X-XSRF-Header). */
  headers?: Record<string, string>;
  /** Seconds to wait after a 429; default reads Retry-After. Okta reads X-Rate-Limit-Reset instead. */
  retryAfterSeconds?: (response: Response) => number | undefined;
  /** Pulls the IdP's own error message out of an error body, for error_description. */
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
}

export interface IdpResponse<T = unknown> {
  status: number;
  ok: boolean;
  headers: Headers;
  /** Parsed JSON when the IdP sent JSON, text otherwise, undefined when empty. */
  body: T;
  /** Set on 429: how long the IdP asked us to wait. */
  retryAfterSeconds?: number;
  method: HttpMethod;
  /** The path that was requested, for error messages (no query string). */
  path: string;
}

/**
 * Where a request goes: a path (appended to the base URL; build it with `path` when it holds request
 * data), or an absolute URL that the IdP itself handed out (e.g. an RFC 7592 registration_client_uri).
 */
export type IdpTarget = string | URL;

export interface IdpHttpClient {
  readonly idpName: string;
  request<T = unknown>(method: HttpMethod, target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  get<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  post<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  put<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  delete<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  /** GET whose 404 means "not there": the body, or undefined. Any other failure throws. */
  find<T = unknown>(target: IdpTarget, action: string, options?: IdpRequestOptions): Promise<T | undefined>;
  /** A readiness report from one cheap GET (admin credentials accepted, IdP answering). Never throws. */
  probe(target: IdpTarget, action: string, options?: IdpRequestOptions): Promise<ReadinessReport>;
  /** The BridgeError for a response the adapter did not expect. */
  errorFromResponse(response: IdpResponse, action: string): BridgeError;
  /**
   * The BridgeError for a write the IdP refused: 400 or 422 → `invalid_redirect_uri` when the IdP's
   * message is about a redirect URI, else `invalid_client_metadata` (a 400 to Konnect, with the IdP's
   * reason); 409 → `conflict`; anything else as `errorFromResponse`.
   */
  refusal(response: IdpResponse, action: string): BridgeError;
}

const SAFE_METHODS = new Set<HttpMethod>(['GET', 'HEAD', 'DELETE']);
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * Builds a path from a template, encoding every interpolated value as one path segment. A value that
 * would act as `.` or `..` is refused, because URL parsers resolve those even when percent-encoded.
 *
 *     path`/admin/realms/${realm}/clients/${id}` // "/admin/realms/acme/clients/a%2Fb"
 */
export function path(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  return strings.reduce((out, part, i) => out + part + (i < values.length ? encodeSegment(String(values[i])) : ''), '');
}

export function encodeSegment(value: string): string {
  if (value === '' || /^(\.|%2e){1,2}$/i.test(value)) {
    throw new BridgeError('invalid_request', `"${value}" cannot be used as an identifier in an IdP path.`);
  }
  return encodeURIComponent(value);
}

export function createIdpHttpClient(options: IdpHttpClientOptions): IdpHttpClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const logger = options.logger ?? silentLogger;
  const base = new URL(String(options.baseUrl));
  const basePath = base.pathname.replace(/\/+$/, '');
  const readRetryAfter = options.retryAfterSeconds ?? ((res: Response) => parseRetryAfter(res.headers.get('retry-after')));

  function urlFor(target: IdpTarget, query: IdpRequestOptions['query']): URL {
    let url: URL;
    if (target instanceof URL) {
      url = new URL(target);
    } else {
      url = new URL(base.origin);
      url.pathname = basePath + (target.startsWith('/') ? target : `/${target}`);
    }
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  async function attempt(method: HttpMethod, url: URL, request: IdpRequestOptions, authHeader: string | undefined): Promise<Response> {
    const headers = new Headers({ accept: 'application/json', ...options.headers, ...request.headers });
    if (authHeader) headers.set('authorization', authHeader);
    let body: string | undefined;
    if (request.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(request.json);
    } else if (request.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(request.form).toString();
    }
    // A clearable timer rather than AbortSignal.timeout()/any(), which would outlive the request.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onCallerAbort = () => controller.abort(request.signal?.reason);
    if (request.signal?.aborted) onCallerAbort();
    else request.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const started = performance.now();
    try {
      const response = await fetchImpl(url, { method, headers, body, signal: controller.signal, redirect: 'manual' });
      logger.debug('idp request', { idp: options.idpName, method, url: redactUrl(url), status: response.status, ms: Math.round(performance.now() - started) });
      return response;
    } catch (error) {
      logger.debug('idp request failed', { idp: options.idpName, method, url: redactUrl(url), error, ms: Math.round(performance.now() - started) });
      throw transportError(error, options.idpName, url, timeoutMs, timedOut, request.signal);
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  async function request<T>(method: HttpMethod, target: IdpTarget, request: IdpRequestOptions = {}): Promise<IdpResponse<T>> {
    const url = urlFor(target, request.query);
    const retryable = SAFE_METHODS.has(method) || request.idempotent === true;
    const auth = options.authorization;
    let reauthorized = false;
    let previous: Response | undefined;
    const send = async (): Promise<Response> => {
      // Only reached again when retrying: release the answer we are not going to read.
      await previous?.body?.cancel();
      const header = auth ? await auth.header(request.signal) : undefined;
      const response = await attempt(method, url, request, header);
      if (response.status === 401 && header && auth?.rejected && !reauthorized) {
        // A cached admin token can be revoked or expire early; one fresh token is worth one more try.
        reauthorized = true;
        auth.rejected(header);
        await response.body?.cancel();
        previous = await attempt(method, url, request, await auth.header(request.signal));
        return previous;
      }
      previous = response;
      return response;
    };
    const response = await withRetries(send, {
      policy: retryable ? options.retry : { ...options.retry, retries: 0 },
      signal: request.signal,
      classify: (outcome) => {
        if ('error' in outcome) {
          return outcome.error instanceof BridgeError && outcome.error.code === 'idp_unavailable' ? { retry: true } : { retry: false };
        }
        const status = outcome.result.status;
        if (!RETRYABLE_STATUS.has(status)) return { retry: false };
        const seconds = readRetryAfter(outcome.result);
        return { retry: true, retryAfterMs: seconds === undefined ? undefined : seconds * 1000 };
      },
    });
    const parsed: IdpResponse<T> = {
      status: response.status,
      ok: response.ok,
      headers: response.headers,
      body: (await readBody(response)) as T,
      method,
      path: url.pathname,
    };
    if (response.status === 429) parsed.retryAfterSeconds = readRetryAfter(response) ?? 1;
    return parsed;
  }

  const idpMessageOf = (response: IdpResponse) => options.describeErrorBody?.(response.body) ?? genericErrorMessage(response.body);

  function refusal(response: IdpResponse, action: string): BridgeError {
    if (![400, 409, 422].includes(response.status)) return errorFromResponse(response, action);
    const message = redactText(idpMessageOf(response) ?? 'no reason given').slice(0, 300);
    const description = `${options.idpName} refused ${action}: ${message}`;
    if (response.status === 409) return new BridgeError('conflict', description);
    return new BridgeError(/redirect/i.test(message) ? 'invalid_redirect_uri' : 'invalid_client_metadata', description);
  }

  function errorFromResponse(response: IdpResponse, action: string): BridgeError {
    const idpMessage = idpMessageOf(response);
    const detail = idpMessage ? `: ${redactText(idpMessage).slice(0, 300)}` : '';
    const what = `${options.idpName} answered HTTP ${response.status} to ${action}`;
    if (response.status === 429) {
      return new BridgeError('idp_rate_limited', `${options.idpName} is rate-limiting the bridge (${action}); retry after ${response.retryAfterSeconds} s.`, {
        retryAfterSeconds: response.retryAfterSeconds,
      });
    }
    if (response.status === 401 || response.status === 403) {
      return new BridgeError('idp_error', `${what}${detail}. The bridge's admin credentials were refused or lack a permission: check the adapter's credentials and roles.`);
    }
    if (response.status >= 500) return new BridgeError('idp_unavailable', `${what}${detail}.`);
    return new BridgeError('idp_error', `${what}${detail}.`);
  }

  async function find<T>(target: IdpTarget, action: string, requestOptions?: IdpRequestOptions): Promise<T | undefined> {
    const response = await request<T>('GET', target, requestOptions);
    if (response.status === 404) return undefined;
    if (!response.ok) throw errorFromResponse(response, action);
    return response.body;
  }

  async function probe(target: IdpTarget, action: string, requestOptions?: IdpRequestOptions): Promise<ReadinessReport> {
    try {
      const response = await request('GET', target, requestOptions);
      return response.ok ? { ready: true } : { ready: false, detail: errorFromResponse(response, action).message };
    } catch (error) {
      return { ready: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  return {
    idpName: options.idpName,
    request,
    find,
    probe,
    get: (p, o) => request('GET', p, o),
    post: (p, o) => request('POST', p, o),
    put: (p, o) => request('PUT', p, o),
    delete: (p, o) => request('DELETE', p, o),
    errorFromResponse,
    refusal,
  };
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** The usual places IdPs put their message: OAuth `error_description`, `message`, `errorMessage`, `errorSummary`. */
function genericErrorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['error_description', 'errorSummary', 'errorMessage', 'message', 'error']) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function transportError(error: unknown, idpName: string, url: URL, timeoutMs: number, timedOut: boolean, callerSignal?: AbortSignal): BridgeError {
  if (timedOut || callerSignal?.aborted) {
    const reason = callerSignal?.aborted ? 'within the request deadline' : `within ${timeoutMs} ms`;
    return new BridgeError('idp_timeout', `${idpName} at ${url.origin} did not answer ${reason}.`, { cause: error });
  }
  const code = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  return new BridgeError('idp_unavailable', `Could not reach ${idpName} at ${url.origin}${code ? ` (${code})` : ''}. Check the IdP URL and the network path.`, {
    cause: error,
  });
}
