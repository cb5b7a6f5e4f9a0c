import express from 'express';
import type { DcrAdapter, ReadinessReport } from '../contract.js';
import { isBridgeError } from '../errors.js';
import { invokeAdapter } from './invoke.js';
import { openApiDocument } from './openapi.js';
import { requestLogger, scope } from './request-scope.js';

/**
 * # The routes without an API key
 *
 * `GET /healthz` (liveness), `GET /readyz` (readiness: the adapter's `checkReady` under its own budget; 503 while
 * draining) and `GET /openapi.json`, served at the root and under the base path.
 */
export interface HealthRoutesOptions {
  adapter: DcrAdapter;
  /** Budget for the readiness check. */
  readinessTimeoutMs: number;
  /** While true, /readyz answers 503 (the server is draining). */
  isDraining?: () => boolean;
}

export function healthRoutes(options: HealthRoutesOptions): express.Router {
  const { adapter } = options;
  const unauthenticated = express.Router();
  unauthenticated.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  unauthenticated.get('/readyz', async (_req, res) => {
    const requestScope = scope(res);
    if (options.isDraining?.()) {
      requestScope.errorCode = 'draining';
      return void res.status(503).json({ status: 'draining' });
    }
    const { requestId, traceContext } = requestScope;
    const report = await invokeAdapter(
      {
        adapter,
        operation: 'checkReady',
        logger: requestLogger(res),
        requestId,
        timeoutMs: options.readinessTimeoutMs,
        traceContext,
      },
      (context) => adapter.checkReady(context),
    ).catch((error: unknown): ReadinessReport => ({
      ready: false,
      detail: error instanceof Error ? error.message : 'readiness check failed',
      reason: isBridgeError(error) ? error.code : 'internal_error',
    }));
    if (report.ready) return void res.status(200).json({ status: 'ready' });
    requestLogger(res).warn('not ready', { detail: report.detail, reason: report.reason });
    requestScope.errorCode = 'not_ready';
    // A machine-readable reason (an error code), never the detail: that may name hosts or echo the IdP.
    res.status(503).json({ status: 'not_ready', reason: report.reason ?? 'not_ready' });
  });
  unauthenticated.get('/openapi.json', (_req, res) => void res.type('application/json').send(openApiDocument()));
  return unauthenticated;
}
