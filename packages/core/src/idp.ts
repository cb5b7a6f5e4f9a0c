/**
 * `@dcr-bridge/core/idp`: the plumbing an adapter uses to talk to its IdP: the HTTP client, path encoding,
 * admin tokens and Authorization headers, and the retry helper for adapters on a vendor SDK. undici and
 * openid-client load with the first request or token, not at import; @opentelemetry/api (a no-op without an
 * SDK) loads with it.
 */
export { createIdpHttpClient, type IdpHttpClient } from './http-client.js';
export { path, type IdpPath, type IdpTarget } from './idp-http/target.js';
export { fetchVia } from './idp-http/transport.js';
export type {
  AuthorizationSource,
  HttpMethod,
  IdpHttpClientOptions,
  IdpRequestOptions,
  IdpResponse,
  ResponseHeaders,
} from './idp-http/types.js';
/** undici's dispatcher type, for adapter options that let a caller route IdP calls (a private CA, a mock). */
export type { Dispatcher } from 'undici';
export {
  basicAuthorization,
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  staticAuthorization,
  tokenRefusal,
  type ClientAuthentication,
  type ClientCredentialsTokenOptions,
  type TokenProvider,
  type TokenRefusal,
} from './token-provider.js';
export { parseRetryAfter, withRetries, type RetryDecision, type RetryOptions, type RetryPolicy } from './retry.js';
