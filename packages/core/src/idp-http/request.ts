import { BridgeError } from '../errors.js';
import { parseRetryAfter, withRetries } from '../retry.js';
import { isIdpPath, type IdpTarget } from './target.js';
import type { Answer, Transport } from './transport.js';
import type { HttpMethod, IdpHttpClientOptions, IdpRequestOptions, IdpResponse, ResponseHeaders } from './types.js';

/** Sends a request to the IdP and answers its final response, whatever its status; a transport failure throws. */
export type IdpRequest = <T = unknown>(method: HttpMethod, target: IdpTarget, options?: IdpRequestOptions) => Promise<IdpResponse<T>>;

export type RequestOptions = Pick<IdpHttpClientOptions, 'baseUrl' | 'retry' | 'authorization' | 'retryAfterSeconds'>;

/** Methods whose repetition leaves the IdP as one call would (RFC 9110 §9.2.2): retried without being marked. */
const IDEMPOTENT_METHODS = new Set<HttpMethod>(['GET', 'HEAD', 'DELETE']);
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/**
 * A request, from its target to its parsed answer, in attempts sent by `transport`: bounded retries with backoff and
 * jitter for idempotent operations only (GET, HEAD, DELETE, and requests marked `idempotent`) on a transport failure
 * (`idp_unavailable`) and 429, 502, 503, 504, Retry-After honoured, and one more attempt with a fresh admin token after
 * a 401.
 */
export function createRequest(options: RequestOptions, transport: Pick<Transport, 'attempt'>): IdpRequest {
  const base = new URL(String(options.baseUrl));
  const basePath = base.pathname.replace(/\/+$/, '');
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

  return async function request<T>(method: HttpMethod, target: IdpTarget, request: IdpRequestOptions = {}): Promise<IdpResponse<T>> {
    const url = urlFor(target, request.query);
    const route = routeOf(target, request);
    const retryable = IDEMPOTENT_METHODS.has(method) || request.idempotent === true;
    const auth = options.authorization;
    let reauthorized = false;
    let attempts = 0;
    /** One attempt with the current admin credentials, and one more with fresh ones when the IdP refuses a cached token. */
    const sendAuthorized = async (): Promise<Answer> => {
      const header = auth ? await auth.header(request.signal) : undefined;
      const answer = await transport.attempt(method, url, route, request, header, attempts++);
      if (answer.status === 401 && header && auth?.rejected && !reauthorized) {
        // A cached admin token can be revoked or expire early; one fresh token is worth one more try.
        reauthorized = true;
        auth.rejected(header);
        return transport.attempt(method, url, route, request, await auth.header(request.signal), attempts++);
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
  };
}

/** The route a call is measured and traced by: the one it names, its path's template, else `other`. */
function routeOf(target: IdpTarget, request: IdpRequestOptions): string {
  return request.route ?? (isIdpPath(target) ? target.route : 'other');
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
