import type { Dispatcher } from 'undici';
import { BridgeError } from '../errors.js';
import { measuringIdpCalls, publish, secondsSince } from '../instrumentation.js';
import { silentLogger } from '../logger.js';
import { redactUrl } from '../redact.js';
import { injectTraceContext, inSpan } from '../tracing.js';
import { userAgent } from '../user-agent.js';
import type { HttpMethod, IdpHttpClientOptions, IdpRequestOptions, ResponseHeaders } from './types.js';

/** An attempt's answer, its body read. */
export interface Answer {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

/**
 * One attempt of an IdP request, on undici's `request` API (the library Node's own fetch is built from, without
 * fetch's web streams and per-call signal plumbing) with a keep-alive connection pool per IdP origin: the headers
 * (fixed ones, the User-Agent, the trace context, the Authorization), the body, the per-attempt ceiling, the answer
 * read in full, a debug line with secrets redacted, and a transport failure as `idp_unavailable` / `idp_timeout`.
 */
export interface Transport {
  /**
   * One attempt in a span of its own (a child of the Konnect operation's), the trace context sent along, its answer
   * read in full (the ceiling is undici's own: headers, then each body chunk); measured as attempt `number`.
   */
  attempt(
    method: HttpMethod,
    url: URL,
    route: string,
    request: IdpRequestOptions,
    authHeader: string | undefined,
    number: number,
  ): Promise<Answer>;
  /** Destroys the connection pool made here (not a dispatcher it was given): a request still under way fails at once. */
  close(): Promise<void>;
}

export type TransportOptions = Pick<IdpHttpClientOptions, 'idpName' | 'dispatcher' | 'timeoutMs' | 'headers' | 'adapterId' | 'logger'>;

export function createTransport(options: TransportOptions): Transport {
  // undici is loaded with the first request, not at import, so that the process answers sooner after start.
  let ownDispatcher: Promise<Dispatcher> | undefined;
  const dispatcherFor = (): Dispatcher | Promise<Dispatcher> =>
    options.dispatcher ?? (ownDispatcher ??= import('undici').then(({ Agent }) => new Agent({ keepAliveTimeout: 10_000 })));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const logger = options.logger ?? silentLogger;
  const debugging = () => logger.isLevelEnabled?.('debug') ?? true;
  const fixedHeaders = { accept: 'application/json', ...lowerCaseKeys(options.headers) };

  const attempt: Transport['attempt'] = (method, url, route, request, authHeader, number) =>
    inSpan(
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

  return {
    attempt,
    // destroy, not close: undici's close() waits for the requests still under way, and an IdP that hangs
    // would hold the process's stop until their budget ends. Whoever closes the client is done with its
    // answers (the lifecycle closes it after its background work); a request still under way fails at once.
    close: async () => {
      await (await ownDispatcher)?.destroy();
    },
  };
}

/** A `fetch` that sends through `dispatcher`, for libraries that take a fetch (openid-client's customFetch). */
export function fetchVia(dispatcher: Dispatcher): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const { fetch: undiciFetch } = await import('undici');
    return undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher });
  }) as unknown as typeof fetch;
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
