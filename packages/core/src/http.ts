/**
 * `@dcr-bridge/core/http`: what a process that serves Konnect needs (the server, and conformance's test
 * harness): the Express app, the parser of Konnect's registration body, the API key rule, the `clientError`
 * answer, the completion budget (`completionBudgetMs`, what recovery must wait out), the JSON logger and redaction, and the measurement channels. It loads Express, an optional peer
 * dependency of core: a package that imports this entry point depends on `express` itself.
 */
export { createBridgeApp, type BridgeAppOptions } from './http/app.js';
export { apiKeyProblem, generateApiKey } from './http/api-key.js';
export { completionBudgetMs } from './http/invoke.js';
export { answerClientError } from './http/client-error.js';
export { parseRegistration } from './http/payloads.js';
export { bindingLogger, createJsonLogger, isLogLevel, type JsonLoggerOptions } from './logger.js';
export { REDACTED, isSecretKey, redact, redactText } from './redact.js';
export {
  CHANNELS,
  type IdpCallMessage,
  type OperationMessage,
  type RequestMessage,
  type StoreMessage,
  type TokenMessage,
} from './instrumentation.js';
