import express from 'express';
import { assertAdapter } from '../capabilities.js';
import type { DcrAdapter } from '../contract.js';
import { BridgeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { createAdapterCalls } from './adapter-calls.js';
import { createApiKeyVerifier } from './api-key.js';
import { routeOperations } from './dcr-routes.js';
import { errorHandler } from './error-answer.js';
import { healthRoutes } from './health-routes.js';
import { authenticate } from './middleware.js';
import { requestContext } from './request-scope.js';

/**
 * The Konnect DCR HTTP API (see ../../README.md and the spec): where a Konnect request goes.
 *
 *   POST   {base}/                     create a client          → 201 {client_id, client_secret, …}
 *   DELETE {base}/{clientId}           delete it                → 204 (also when already gone)
 *   POST   {base}/{clientId}/new-secret rotate its secret       → 200 {client_id, client_secret}
 *   POST   {base}/{clientId}/event-hook apply a lifecycle event → 200
 *   GET    /healthz, /readyz (and under {base})                 liveness, readiness; no API key
 *   GET    /openapi.json (and under {base})                     this API's OpenAPI document; no API key
 *
 * Request → request id (request-scope.ts) → API key (middleware.ts) → body checks → payload parsing
 * (dcr-routes.ts) → invokeAdapter (adapter-calls.ts) → response; every error becomes `{error, error_description}`
 * in `errorHandler` (error-answer.ts): the error's public description and the request id (`errorAnswer`), never
 * its message, which goes to the log (invokeAdapter's line for adapter calls). Every answer, those refused before
 * the adapter too, is published on `CHANNELS.request` (by route template and status, for metrics), and the
 * adapter call's span continues the trace the request came with.
 */
export interface BridgeAppOptions {
  adapter: DcrAdapter;
  /** Accepted X-API-KEY values (several during a key rotation). */
  apiKeys: string[];
  logger?: Logger;
  /** Where Konnect's dcr_base_url points, e.g. `/v1/dcr`. Default `/`. */
  basePath?: string;
  /** Largest accepted body. Default 64 KiB. */
  bodyLimitBytes?: number;
  /** When the answer to Konnect is due; keep it under Konnect's budget (about 10 s). Default 9000 ms. */
  operationTimeoutMs?: number;
  /** How long IdP work already under way may go on after the answer was due (see invokeAdapter). Default 30 000 ms. */
  completionTimeoutMs?: number;
  /** Budget for the readiness check. Default 3000 ms. */
  readinessTimeoutMs?: number;
  /** While true, /readyz answers 503 (the server is draining). */
  isDraining?: () => boolean;
}

export function createBridgeApp(options: BridgeAppOptions): express.Express {
  assertAdapter(options.adapter);
  const { adapter } = options;
  const logger = options.logger ?? silentLogger;
  const verifyApiKey = createApiKeyVerifier(options.apiKeys);
  const basePath = normaliseBasePath(options.basePath ?? '/');
  const jsonBody = express.json({ limit: options.bodyLimitBytes ?? 64 * 1024, type: () => true, strict: false });
  const calls = createAdapterCalls({
    adapter,
    logger,
    timeoutMs: options.operationTimeoutMs ?? 9_000,
    completionTimeoutMs: options.completionTimeoutMs,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(logger, basePath));

  const unauthenticated = healthRoutes({
    adapter,
    readinessTimeoutMs: options.readinessTimeoutMs ?? 3_000,
    isDraining: options.isDraining,
  });
  app.use(unauthenticated);

  const dcr = express.Router({ strict: false });
  if (basePath !== '/') dcr.use(unauthenticated);
  dcr.use(authenticate(verifyApiKey));
  routeOperations(dcr, adapter, calls, jsonBody);

  app.use(basePath, dcr);
  app.use((_req, _res, next) =>
    next(
      new BridgeError(
        'not_found',
        'No such route. The DCR API serves POST /, DELETE /{clientId}, POST /{clientId}/new-secret and POST /{clientId}/event-hook.',
      ),
    ),
  );
  app.use(errorHandler(logger));
  return app;
}

function normaliseBasePath(basePath: string): string {
  const trimmed = `/${basePath.trim().replace(/^\/+|\/+$/g, '')}`;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed)) throw new Error(`The base path "${basePath}" may only hold URL path characters.`);
  return trimmed;
}
