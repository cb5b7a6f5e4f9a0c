/**
 * `@dcr-bridge/core/idp`: the plumbing an adapter uses to talk to its IdP: the HTTP client, path encoding,
 * admin tokens and Authorization headers, and the retry helper for adapters on a vendor SDK. undici and
 * openid-client load with the first request or token, not at import; @opentelemetry/api (a no-op without an
 * SDK) loads with it.
 */
export {
  createIdpHttpClient,
  fetchVia,
  path,
  type AuthorizationSource,
  type HttpMethod,
  type IdpHttpClient,
  type IdpHttpClientOptions,
  type IdpPath,
  type IdpRequestOptions,
  type IdpResponse,
  type IdpTarget,
  type ResponseHeaders,
} from './http-client.js';
/** undici's dispatcher type, for adapter options that let a caller route IdP calls (a private CA, a mock). */
export type { Dispatcher } from 'undici';
export {
  basicAuthorization,
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  staticAuthorization,
  type ClientAuthentication,
  type ClientCredentialsTokenOptions,
  type TokenProvider,
} from './token-provider.js';
export { parseRetryAfter, withRetries, type RetryDecision, type RetryOptions, type RetryPolicy } from './retry.js';
