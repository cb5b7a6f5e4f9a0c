export * from './contract.js';
export { assertAdapter } from './capabilities.js';
export { BridgeError, ERROR_CODES, isBridgeError, statusForCode, toBridgeError, type BridgeErrorCode, type BridgeErrorOptions } from './errors.js';
export { bindingLogger, createJsonLogger, isLogLevel, silentLogger, type JsonLoggerOptions, type LogFields, type LogLevel, type Logger } from './logger.js';
export { REDACTED, isSecretKey, redact, redactText, redactUrl } from './redact.js';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, parseRetryAfter, sleep, withRetries, type RetryDecision, type RetryOptions, type RetryPolicy } from './retry.js';
export {
  createIdpHttpClient,
  encodeSegment,
  fetchVia,
  notReady,
  path,
  type AuthorizationSource,
  type HttpMethod,
  type IdpHttpClient,
  type IdpHttpClientOptions,
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
export { compareCodePoints, createEncryptedStore, createJsonStore, createMemoryDriver, parseStoreKey, prefixUpperBound, type EncryptedStoreOptions, type StateStore, type StoreDriver } from './store.js';
export { JOURNAL_PREFIX, defineDcrAdapter, type JournalEntry, type LifecycleOptions } from './lifecycle.js';
export { generateSecret, hasOwnershipMarkerLine, newNonce, ownershipMarkerLine, uniqueName, type UniqueNameOptions } from './naming.js';
export { createBridgeApp, type BridgeAppOptions } from './http/app.js';
export { apiKeyProblem, createApiKeyVerifier } from './http/api-key.js';
export { answerClientError } from './http/client-error.js';
export { invokeAdapter, type InvokeOptions } from './http/invoke.js';
export { parseClientId, parseEvent, parseRegistration } from './http/payloads.js';
export { isAdapterModule, readAdapterOptions, type AdapterContext, type AdapterModule } from './adapter-module.js';
export { createSettingsReader, type SettingsReader } from './settings.js';
export { CHANNELS, routeTemplate, type IdpCallMessage, type OperationMessage, type StoreMessage, type TokenMessage } from './instrumentation.js';
