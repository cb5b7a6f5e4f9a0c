import type { Dispatcher } from 'undici';
import type { DiagnosticCheck, ReadinessReport } from './contract.js';
import { BridgeError, notReady } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { redactText, redactUrl } from './redact.js';
import { measuringIdpCalls, publish, secondsSince } from './instrumentation.js';
import { injectTraceContext, inSpan } from './tracing.js';
import { userAgent } from './user-agent.js';
import { parseRetryAfter, withRetries, type RetryPolicy } from './retry.js';

/**
 * The HTTP client every adapter uses to talk to its IdP, on undici's `request` API (the library Node's own
 * fetch is built from, without fetch's web streams and per-call signal plumbing) with a keep-alive
 * connection pool per IdP origin: attempts bounded by the operation's completion
 * budget (the request's signal) and a per-attempt ceiling, bounded retries with backoff and jitter for
 * idempotent operations only (GET, HEAD, DELETE, and requests marked `idempotent`), Retry-After
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

/**
 * Where a request goes: a path appended to the base URL (build it with `path`: it encodes request data and
 * carries the route template the call is measured by; a plain string is measured as `other`), or an
 * absolute URL that the IdP itself handed out (e.g. an RFC 7592 registration_client_uri).
 */
export type IdpTarget = IdpPath | string | URL;

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
  /**
   * A doctor's permission check from one GET: `pass` on 2xx; on 401/403 `fail` with `fix` (what to grant);
   * otherwise `fail` with the status and the IdP's words (redacted). Never throws.
   */
  checkAccess(target: IdpTarget, check: { name: string; fix: string }, options?: IdpRequestOptions): Promise<DiagnosticCheck>;
  /** The BridgeError for a response the adapter did not expect. */
  errorFromResponse(response: IdpResponse, action: string): BridgeError;
  /**
   * The BridgeError for a write the IdP refused: 400 or 422 → `invalid_redirect_uri` when the IdP's
   * message is about a redirect URI, else `invalid_client_metadata` (a 400 to Konnect saying what was
   * refused; the IdP's reason and the action are in the message, for the log); 409 → `conflict`; anything
   * else as `errorFromResponse`.
   */
  refusal(response: IdpResponse, action: string): BridgeError;
  /**
   * Closes the connection pool this client made (not a dispatcher it was given) at once: a request still
   * under way fails with `idp_unavailable` rather than being waited for.
   */
  close(): Promise<void>;
}

/** What Konnect reads when the IdP refused a write (`refusal`), after the IdP's name; its reason goes to the log. */
const REFUSED = {
  conflict: 'already holds an object that conflicts with this application. Ask your platform team to resolve it.',
  invalid_redirect_uri:
    'refused the redirect URIs of this application. Check them, or ask your platform team which ones the identity provider accepts.',
  invalid_client_metadata:
    "refused this application's settings (grant types, authentication method, scopes or name). Check them, or ask your platform team which ones the identity provider accepts.",
} as const;

/** Methods whose repetition leaves the IdP as one call would (RFC 9110 §9.2.2): retried without being marked. */
const IDEMPOTENT_METHODS = new Set<HttpMethod>(['GET', 'HEAD', 'DELETE']);
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * A path built by `path`: a String object (it interpolates, concatenates and compares with `==` to a string
 * as its text; `String(p)` is the primitive) that carries the route template it was built from, `route`, by
 * which the IdP call is measured and traced.
 */
// eslint-disable-next-line @typescript-eslint/no-wrapper-object-types -- a primitive string cannot carry its route
export interface IdpPath extends String {
  /** The template's literal parts with `{id}` for each interpolated value: `/admin/realms/{id}/clients/{id}`. */
  readonly route: string;
}

class TemplatedPath extends String implements IdpPath {
  constructor(
    text: string,
    readonly route: string,
  ) {
    super(text);
  }
}

/**
 * Builds a path from a template, encoding every interpolated value as one path segment. A value that
 * would act as `.` or `..` is refused, because URL parsers resolve those even when percent-encoded. The
 * result carries its route template (`route`): the literal parts with `{id}` for each value, so that the
 * call is measured by what the code wrote, never by an id. A path built by `path` may be put in another one
 * as it is (not encoded again), with its route:
 *
 *     path`/admin/realms/${realm}/clients/${id}` // "/admin/realms/acme/clients/a%2Fb", route "/admin/realms/{id}/clients/{id}"
 *     path`${client(id)}/client-secret`          // route "/admin/realms/{id}/clients/{id}/client-secret"
 */
export function path(strings: TemplateStringsArray, ...values: Array<string | number | IdpPath>): IdpPath {
  let text = '';
  let route = '';
  strings.forEach((part, i) => {
    text += part;
    route += part;
    if (i >= values.length) return;
    const value = values[i];
    if (isIdpPath(value)) {
      text += value.toString();
      route += value.route;
    } else {
      text += encodeSegment(String(value));
      route += '{id}';
    }
  });
  return new TemplatedPath(text, route);
}

/** The route a call is measured and traced by: the one it names, its path's template, else `other`. */
function routeOf(target: IdpTarget, request: IdpRequestOptions): string {
  return request.route ?? (isIdpPath(target) ? target.route : 'other');
}

/** Made by `path` (of this copy of core or another one in the process). */
function isIdpPath(value: unknown): value is IdpPath {
  return value instanceof String && typeof (value as { route?: unknown }).route === 'string';
}

export function encodeSegment(value: string): string {
  if (value === '' || /^(\.|%2e){1,2}$/i.test(value)) {
    throw new BridgeError('invalid_request', `"${value}" cannot be used as an identifier in an IdP path.`);
  }
  return encodeURIComponent(value);
}

/** A `fetch` that sends through `dispatcher`, for libraries that take a fetch (openid-client's customFetch). */
export function fetchVia(dispatcher: Dispatcher): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const { fetch: undiciFetch } = await import('undici');
    return undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher });
  }) as unknown as typeof fetch;
}

export function createIdpHttpClient(options: IdpHttpClientOptions): IdpHttpClient {
  // undici is loaded with the first request, not at import, so that the process answers sooner after start.
  let ownDispatcher: Promise<Dispatcher> | undefined;
  const dispatcherFor = (): Dispatcher | Promise<Dispatcher> =>
    options.dispatcher ?? (ownDispatcher ??= import('undici').then(({ Agent }) => new Agent({ keepAliveTimeout: 10_000 })));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const logger = options.logger ?? silentLogger;
  const debugging = () => logger.isLevelEnabled?.('debug') ?? true;
  const base = new URL(String(options.baseUrl));
  const basePath = base.pathname.replace(/\/+$/, '');
  const fixedHeaders = { accept: 'application/json', ...lowerCaseKeys(options.headers) };
  const readRetryAfter =
    options.retryAfterSeconds ?? ((res: { headers: ResponseHeaders }) => parseRetryAfter(res.headers.get('retry-after')));

  function urlFor(target: IdpTarget, query: IdpRequestOptions['query']): URL {
    let url: URL;
    if (target instanceof URL) {
      url = new URL(target);
    } else {
      const text = target.toString();
      url = new URL(base.origin);
      url.pathname = basePath + (text.startsWith('/') ? text : `/${text}`);
    }
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /**
   * One attempt in a span of its own (a child of the Konnect operation's), the trace context sent along, its answer
   * read in full (the ceiling is undici's own: headers, then each body chunk).
   */
  function attempt(
    method: HttpMethod,
    url: URL,
    route: string,
    request: IdpRequestOptions,
    authHeader: string | undefined,
    number: number,
  ): Promise<Answer> {
    return inSpan(
      `${method} ${options.idpName}`,
      'idp',
      { 'http.request.method': method, 'server.address': url.hostname, 'url.template': route, 'dcr.idp': options.idpName },
      async (span) => {
        if (span.isRecording()) span.setAttribute('url.full', redactUrl(url));
        const started = performance.now();
        const measure = (status: number | 'error') =>
          measuringIdpCalls() &&
          publish.idpCall({
            idp: options.idpName,
            method,
            route,
            status,
            seconds: secondsSince(started),
            attempt: number,
          });
        try {
          const answer = await sendOnce(method, url, request, authHeader);
          span.setAttribute('http.response.status_code', answer.status);
          measure(answer.status);
          return answer;
        } catch (error) {
          measure('error');
          throw error;
        }
      },
    );
  }

  /** Sends one request and reads its answer in full; a transport failure becomes a BridgeError. */
  async function sendOnce(method: HttpMethod, url: URL, request: IdpRequestOptions, authHeader: string | undefined): Promise<Answer> {
    const headers: Record<string, string> = { ...fixedHeaders, ...lowerCaseKeys(request.headers) };
    headers['user-agent'] ??= userAgent(options.adapterId);
    injectTraceContext(headers);
    if (authHeader) headers.authorization = authHeader;
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    }
    const started = performance.now();
    try {
      const dispatcher = await dispatcherFor();
      const response = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers,
        body,
        signal: request.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const answer: Answer = { status: response.statusCode, headers: new HeaderLookup(response.headers), text: await response.body.text() };
      if (debugging())
        logger.debug('idp request', {
          idp: options.idpName,
          method,
          url: redactUrl(url),
          status: answer.status,
          ms: Math.round(performance.now() - started),
        });
      return answer;
    } catch (error) {
      if (debugging())
        logger.debug('idp request failed', {
          idp: options.idpName,
          method,
          url: redactUrl(url),
          error,
          ms: Math.round(performance.now() - started),
        });
      throw transportError(error, options.idpName, url, timeoutMs, request.signal);
    }
  }

  async function request<T>(method: HttpMethod, target: IdpTarget, request: IdpRequestOptions = {}): Promise<IdpResponse<T>> {
    const url = urlFor(target, request.query);
    const route = routeOf(target, request);
    const retryable = IDEMPOTENT_METHODS.has(method) || request.idempotent === true;
    const auth = options.authorization;
    let reauthorized = false;
    let attempts = 0;
    /** One attempt with the current admin credentials, and one more with fresh ones when the IdP refuses a cached token. */
    const sendAuthorized = async (): Promise<Answer> => {
      const header = auth ? await auth.header(request.signal) : undefined;
      const answer = await attempt(method, url, route, request, header, attempts++);
      if (answer.status === 401 && header && auth?.rejected && !reauthorized) {
        // A cached admin token can be revoked or expire early; one fresh token is worth one more try.
        reauthorized = true;
        auth.rejected(header);
        return attempt(method, url, route, request, await auth.header(request.signal), attempts++);
      }
      return answer;
    };
    const answer = await withRetries(sendAuthorized, {
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
      status: answer.status,
      ok: answer.status >= 200 && answer.status < 300,
      headers: answer.headers,
      body: parseBody(answer) as T,
      attempts,
      method,
      path: url.pathname,
    };
    if (answer.status === 429) parsed.retryAfterSeconds = readRetryAfter(answer) ?? 1;
    return parsed;
  }

  const idpMessageOf = (response: IdpResponse) => options.describeErrorBody?.(response.body) ?? genericErrorMessage(response.body);

  function refusal(response: IdpResponse, action: string): BridgeError {
    if (![400, 409, 422].includes(response.status)) return errorFromResponse(response, action);
    const message = redactText(idpMessageOf(response) ?? 'no reason given').slice(0, 300);
    const description = `${options.idpName} refused ${action} (HTTP ${response.status}): ${message}`;
    // The IdP's words (and the action, which may name internal ids) are for the log; Konnect reads what was refused.
    const code = response.status === 409 ? 'conflict' : /redirect/i.test(message) ? 'invalid_redirect_uri' : 'invalid_client_metadata';
    return new BridgeError(code, description, { publicDescription: `${options.idpName} ${REFUSED[code]}` });
  }

  function errorFromResponse(response: IdpResponse, action: string): BridgeError {
    const idpMessage = idpMessageOf(response);
    const detail = idpMessage ? `: ${redactText(idpMessage).slice(0, 300)}` : '';
    const what = `${options.idpName} answered HTTP ${response.status} to ${action}`;
    if (response.status === 429) {
      return new BridgeError(
        'idp_rate_limited',
        `${options.idpName} is rate-limiting the bridge (${action}); retry after ${response.retryAfterSeconds} s.`,
        {
          retryAfterSeconds: response.retryAfterSeconds,
        },
      );
    }
    if (response.status === 401 || response.status === 403) {
      return new BridgeError(
        'idp_error',
        `${what}${detail}. The bridge's admin credentials were refused or lack a permission: check the adapter's credentials and roles.`,
      );
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
      if (response.ok) return { ready: true };
      const refused = errorFromResponse(response, action);
      return { ready: false, detail: refused.message, reason: refused.code };
    } catch (error) {
      return notReady(error);
    }
  }

  async function checkAccess(
    target: IdpTarget,
    check: { name: string; fix: string },
    requestOptions?: IdpRequestOptions,
  ): Promise<DiagnosticCheck> {
    try {
      const response = await request('GET', target, requestOptions);
      if (response.ok) return { name: check.name, result: 'pass', detail: `GET answered ${response.status}` };
      const refused = response.status === 401 || response.status === 403;
      return {
        name: check.name,
        result: 'fail',
        detail: errorFromResponse(response, check.name).message,
        ...(refused ? { fix: check.fix } : {}),
      };
    } catch (error) {
      return { name: check.name, result: 'fail', detail: notReady(error).detail };
    }
  }

  return {
    idpName: options.idpName,
    request,
    find,
    probe,
    checkAccess,
    get: (p, o) => request('GET', p, o),
    post: (p, o) => request('POST', p, o),
    put: (p, o) => request('PUT', p, o),
    delete: (p, o) => request('DELETE', p, o),
    errorFromResponse,
    refusal,
    // destroy, not close: undici's close() waits for the requests still under way, and an IdP that hangs
    // would hold the process's stop until their budget ends. Whoever closes the client is done with its
    // answers (the lifecycle closes it after its background work); a request still under way fails at once.
    close: async () => {
      await (await ownDispatcher)?.destroy();
    },
  };
}

/** An attempt's answer, its body read. */
interface Answer {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

class HeaderLookup implements ResponseHeaders {
  constructor(private readonly headers: Record<string, string | string[] | undefined>) {}

  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const lowered: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) lowered[name.toLowerCase()] = value;
  return lowered;
}

function parseBody(answer: Answer): unknown {
  if (answer.text === '') return undefined;
  if ((answer.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(answer.text);
    } catch {
      return answer.text;
    }
  }
  return answer.text;
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

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function transportError(error: unknown, idpName: string, url: URL, timeoutMs: number, callerSignal?: AbortSignal): BridgeError {
  const code = (error as { code?: unknown } | undefined)?.code ?? (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (callerSignal?.aborted || TIMEOUT_CODES.has(String(code))) {
    const reason = callerSignal?.aborted ? 'within the request deadline' : `within ${timeoutMs} ms`;
    return new BridgeError('idp_timeout', `${idpName} at ${url.origin} did not answer ${reason}.`, { cause: error });
  }
  return new BridgeError(
    'idp_unavailable',
    `Could not reach ${idpName} at ${url.origin}${typeof code === 'string' ? ` (${code})` : ''}. Check the IdP URL and the network path.`,
    {
      cause: error,
    },
  );
}
