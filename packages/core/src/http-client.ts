import { createChecks, type IdpChecks } from './idp-http/checks.js';
import { createRequest } from './idp-http/request.js';
import { errorFromResponse, refusal } from './idp-http/response-errors.js';
import type { IdpTarget } from './idp-http/target.js';
import { createTransport } from './idp-http/transport.js';
import type { HttpMethod, IdpHttpClientOptions, IdpRequestOptions, IdpResponse } from './idp-http/types.js';
import type { BridgeError } from './errors.js';

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
export interface IdpHttpClient extends IdpChecks {
  readonly idpName: string;
  request<T = unknown>(method: HttpMethod, target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  get<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  post<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  put<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
  delete<T = unknown>(target: IdpTarget, options?: IdpRequestOptions): Promise<IdpResponse<T>>;
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

/**
 * Composes the client's parts, each of one concern (src/idp-http/): `transport.ts` sends one attempt, `request.ts`
 * makes a request of attempts (retries, re-authorization, the answer parsed), `response-errors.ts` turns an answer
 * into a BridgeError, `checks.ts` builds `find`, `probe` and `checkAccess` on a request; `target.ts` is where a
 * request goes (`path`).
 */
export function createIdpHttpClient(options: IdpHttpClientOptions): IdpHttpClient {
  const transport = createTransport(options);
  const request = createRequest(options, transport);
  const unexpected = (response: IdpResponse, action: string) => errorFromResponse(options, response, action);
  return {
    idpName: options.idpName,
    request,
    ...createChecks(request, unexpected),
    get: (p, o) => request('GET', p, o),
    post: (p, o) => request('POST', p, o),
    put: (p, o) => request('PUT', p, o),
    delete: (p, o) => request('DELETE', p, o),
    errorFromResponse: unexpected,
    refusal: (response, action) => refusal(options, response, action),
    close: () => transport.close(),
  };
}
