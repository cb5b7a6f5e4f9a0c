import { randomUUID } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { assertAdapter } from '../capabilities.js';
import type { ClientEvent, DcrAdapter, ReadinessReport } from '../contract.js';
import { BridgeError, errorAnswer, isBridgeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { createApiKeyVerifier } from './api-key.js';
import { measuringRequests, publish, secondsSince } from '../instrumentation.js';
import { incomingTraceContext } from '../tracing.js';
import { operationSupport } from '../capabilities.js';
import { AnswerOutcome } from './answer-outcome.js';
import { invokeAdapter } from './invoke.js';
import { openApiDocument } from './openapi.js';
import { parseClientId, parseEvent, parseRegistration } from './payloads.js';

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
 * Request → request id → API key → body checks → payload parsing → invokeAdapter → response; every error
 * becomes `{error, error_description}` in `errorHandler`: the error's public description and the request id
 * (`errorAnswer`), never its message, which goes to the log (invokeAdapter's line for adapter calls). Every
 * answer, those refused before the adapter too, is published on `CHANNELS.request` (by route template and
 * status, for metrics), and the adapter call's span continues the trace the request came with.
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
  const timeoutMs = options.operationTimeoutMs ?? 9_000;
  const jsonBody = express.json({ limit: options.bodyLimitBytes ?? 64 * 1024, type: () => true, strict: false });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(logger, basePath));

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
        timeoutMs: options.readinessTimeoutMs ?? 3_000,
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
  app.use(unauthenticated);

  const dcr = express.Router({ strict: false });
  if (basePath !== '/') dcr.use(unauthenticated);
  dcr.use(authenticate(verifyApiKey));

  /**
   * Runs one adapter operation for a Konnect call and writes its `audit` line once it is done: operation,
   * outcome, the IdP client id, the Konnect ids that came with the call, the request id and the duration.
   */
  const call = async <T>(
    res: Response,
    operation: string,
    subject: AuditSubject,
    run: Parameters<typeof invokeAdapter<T>>[1],
    clientIdOf?: (result: T) => string,
  ): Promise<T> => {
    const requestScope = scope(res);
    requestScope.deadline = new AbortController();
    const started = performance.now();
    try {
      const result = await invoke(requestScope, operation, run);
      audit(
        requestScope,
        operation,
        'success',
        { ...subject, clientId: clientIdOf ? clientIdOf(result) : subject.clientId },
        started,
        SUCCESS_STATUS[operation] ?? 200,
      );
      return result;
    } catch (error) {
      audit(
        requestScope,
        operation,
        isBridgeError(error) ? error.code : 'internal_error',
        subject,
        started,
        isBridgeError(error) ? error.status : 500,
      );
      throw error;
    }
  };

  /** The audit line, and the same operation on the instrumentation channel (for metrics: no ids there). */
  const audit = (
    requestScope: RequestScope,
    operation: string,
    outcome: string,
    subject: AuditSubject,
    started: number,
    status: number,
  ) => {
    logger.info('audit', {
      requestId: requestScope.requestId,
      operation,
      outcome,
      clientId: subject.clientId,
      ...subject.konnect,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
    publish.operation({ operation, adapter: adapter.id, outcome, status, seconds: secondsSince(started) });
  };

  const invoke = <T>(requestScope: RequestScope, operation: string, run: Parameters<typeof invokeAdapter<T>>[1]) =>
    invokeAdapter(
      {
        adapter,
        operation,
        logger: logger.child({ requestId: requestScope.requestId }),
        requestId: requestScope.requestId,
        traceContext: requestScope.traceContext,
        timeoutMs,
        completionTimeoutMs: options.completionTimeoutMs,
        deadline: requestScope.deadline,
        answer: requestScope.answer,
      },
      run,
    );

  dcr
    .route('/')
    .post(requireJson, jsonBody, async (req, res) => {
      const registration = parseRegistration(req.body);
      const { portalId, organizationId, developerId } = registration.konnect;
      const created = await call(
        res,
        'createClient',
        { konnect: { portalId, organizationId, developerId } },
        (context) => adapter.createClient(registration, context),
        (result) => result.clientId,
      );
      noStore(res)
        .status(201)
        .json({
          client_id: created.clientId,
          client_secret: created.clientSecret,
          client_id_issued_at: (created.clientIdIssuedAt ?? new Date()).toISOString(),
          ...(created.clientSecretExpiresAt ? { client_secret_expires_at: created.clientSecretExpiresAt.toISOString() } : {}),
        });
    })
    .all(methodNotAllowed('POST'));

  dcr
    .route('/:clientId')
    .delete(async (req, res) => {
      const clientId = parseClientId(req.params.clientId);
      await call(res, 'deleteClient', { clientId }, (context) => adapter.deleteClient(clientId, context));
      res.status(204).end();
    })
    .all(methodNotAllowed('DELETE'));

  dcr
    .route('/:clientId/new-secret')
    .post(async (req, res) => {
      const clientId = parseClientId(req.params.clientId);
      const support = operationSupport(adapter, { type: 'rotate_secret' });
      if (support.action === 'refuse') throw support.error;
      const rotate = adapter.rotateSecret!.bind(adapter);
      const rotated = await call(res, 'rotateSecret', { clientId }, (context) => rotate(clientId, context));
      noStore(res).status(200).json({ client_id: rotated.clientId, client_secret: rotated.clientSecret });
    })
    .all(methodNotAllowed('POST'));

  dcr
    .route('/:clientId/event-hook')
    .post(requireJson, jsonBody, async (req, res) => {
      const clientId = parseClientId(req.params.clientId);
      const event = parseEvent(req.body, clientId);
      const support = operationSupport(adapter, event);
      if (support.action === 'call') {
        const apply = adapter.applyEvent!.bind(adapter);
        await call(res, `applyEvent(${event.type})`, { clientId, konnect: eventReferences(event) }, (context) =>
          apply(clientId, event, context),
        );
      } else if (support.action === 'refuse') {
        throw support.error;
      } else {
        // Acknowledged: the adapter has no audience registrations (or the product no audience); nothing changes.
        audit(
          scope(res),
          `applyEvent(${event.type})`,
          'acknowledged',
          { clientId, konnect: eventReferences(event) },
          performance.now(),
          200,
        );
      }
      res.status(200).json({});
    })
    .all(methodNotAllowed('POST'));

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

const SUCCESS_STATUS: Record<string, number> = { createClient: 201, deleteClient: 204 };

/** What an audit line says the operation was about, besides its outcome. */
interface AuditSubject {
  clientId?: string;
  konnect?: { portalId: string; organizationId: string; developerId: string; applicationId?: string };
}

function eventReferences(event: ClientEvent): NonNullable<AuditSubject['konnect']> {
  const { portalId, organizationId, developerId, applicationId } = event.application;
  return { portalId, organizationId, developerId, applicationId };
}

/**
 * What requestContext attaches to each request (kept in res.locals, so Express's types stay untouched). The
 * rest is made only when an operation needs it: most requests need no deadline controller or answer promise.
 */
interface RequestScope {
  requestId: string;
  logger: Logger;
  /** Aborted when Konnect hangs up before the answer left (set by the adapter call). */
  deadline?: AbortController;
  /** Whether the answer reached Konnect: settled when the response closed, read by creates. */
  answer: AnswerOutcome;
  /** The error code answered (set by errorHandler, and by /readyz when not ready). */
  errorCode?: string;
  /** The trace the request continues (see incomingTraceContext). */
  traceContext: Context;
}

function scope(res: Response): RequestScope {
  return res.locals.bridge as RequestScope;
}

function requestLogger(res: Response): Logger {
  const { logger, requestId } = scope(res);
  return logger.child({ requestId });
}

/**
 * Per request: its id, the trace context it came with, and one listener on the response's close (after finish
 * when the answer left), which writes the access log line, publishes the answer on `CHANNELS.request`, tells
 * a create whether Konnect got its answer, and aborts the adapter call's deadline when Konnect hung up first.
 */
function requestContext(logger: Logger, basePath: string): RequestHandler {
  return (req, res, next) => {
    const presented = req.get('x-request-id');
    const requestId = presented && /^[A-Za-z0-9._-]{1,128}$/.test(presented) ? presented : randomUUID();
    const requestScope: RequestScope = {
      requestId,
      logger,
      traceContext: incomingTraceContext(req.headers),
      answer: new AnswerOutcome(),
    };
    res.locals.bridge = requestScope;
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    const started = performance.now();
    res.once('close', () => {
      const finished = res.writableFinished;
      requestScope.answer.settle(finished && res.statusCode < 400);
      if (!finished) requestScope.deadline?.abort(new Error('client closed the connection'));
      const status = finished ? res.statusCode : 499;
      logger.info('request', {
        requestId,
        method: req.method,
        path: req.path,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
      if (measuringRequests())
        publish.request({
          method: req.method,
          route: routeOf(req.originalUrl, basePath),
          status,
          outcome: !finished ? 'closed' : status < 400 ? 'success' : (requestScope.errorCode ?? 'error'),
          seconds: secondsSince(started),
        });
    });
    next();
  };
}

const UNDER_ANY_BASE = new Set(['/healthz', '/readyz', '/openapi.json']);

/**
 * The route of the DCR API a request was for, relative to the base path, matched the way the routers match
 * (any case, a trailing slash allowed): a metric label with a fixed set of values, never a client id.
 */
function routeOf(url: string, basePath: string): string {
  const pathname = (url.split('?', 1)[0] ?? '').toLowerCase().replace(/(.)\/$/, '$1');
  if (UNDER_ANY_BASE.has(pathname)) return pathname;
  const base = basePath.toLowerCase();
  let rest: string;
  if (base === '/') rest = pathname;
  else if (pathname === base) rest = '/';
  else if (pathname.startsWith(`${base}/`)) rest = pathname.slice(base.length);
  else return 'other';
  if (rest === '/' || UNDER_ANY_BASE.has(rest)) return rest;
  const segments = rest.split('/').slice(1);
  if (segments.some((segment) => segment === '')) return 'other';
  if (segments.length === 1) return '/{clientId}';
  if (segments.length === 2 && (segments[1] === 'new-secret' || segments[1] === 'event-hook')) return `/{clientId}/${segments[1]}`;
  return 'other';
}

function authenticate(verify: (key: string | undefined) => boolean): RequestHandler {
  return (req, _res, next) => {
    if (verify(req.get('x-api-key'))) return next();
    next(
      new BridgeError(
        'unauthorized',
        'Missing or invalid X-API-KEY header. Check the api_key of the DCR provider in Konnect against the API keys of the bridge.',
      ),
    );
  };
}

/** Bodies must be JSON; a request with no body at all is read as an empty body and refused by the payload check. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.get('content-length') !== undefined ? req.get('content-length') !== '0' : req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is(['application/json', '+json'])) {
    return next(
      new BridgeError('unsupported_media_type', `Content-Type must be application/json (got ${req.get('content-type') ?? 'none'}).`),
    );
  }
  next();
};

function methodNotAllowed(allowed: string): RequestHandler {
  return (req, res, next) => {
    res.set('allow', allowed);
    next(new BridgeError('method_not_allowed', `${req.method} is not allowed here; use ${allowed}.`));
  };
}

function noStore(res: Response): Response {
  return res.set('cache-control', 'no-store').set('pragma', 'no-cache');
}

function errorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const bridgeError = fromExpressError(error);
    const requestScope = res.locals.bridge as RequestScope | undefined;
    if (requestScope) requestScope.errorCode = bridgeError.code;
    if (bridgeError.code === 'internal_error') (res.locals.bridge ? requestLogger(res) : logger).error('unhandled error', { error });
    if (bridgeError.retryAfterSeconds !== undefined) res.set('retry-after', String(Math.max(1, Math.ceil(bridgeError.retryAfterSeconds))));
    if (res.headersSent) return void res.end();
    const requestId = (res.locals.bridge as RequestScope | undefined)?.requestId ?? String(res.getHeader('x-request-id') ?? 'none');
    noStore(res).status(bridgeError.status).json(errorAnswer(bridgeError, requestId));
  };
}

/** body-parser and Express errors → BridgeError; anything unknown → internal_error without details. */
function fromExpressError(error: unknown): BridgeError {
  if (isBridgeError(error)) return error;
  if (error instanceof URIError) return new BridgeError('invalid_request', 'The path is not valid percent-encoding.');
  const type = (error as { type?: string } | undefined)?.type;
  switch (type) {
    case 'entity.too.large':
      return new BridgeError('payload_too_large', 'The request body is larger than the bridge accepts.');
    case 'entity.parse.failed':
      return new BridgeError('invalid_request', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new BridgeError('unsupported_media_type', 'The request body must be UTF-8 JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new BridgeError('invalid_request', 'The request body could not be read.');
  }
  // Anything else Express or body-parser marks as the client's fault (a corrupt compressed body, a bad
  // header): a 4xx without details, never a 500.
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new BridgeError('invalid_request', 'The request could not be read (its encoding or body is malformed).', { cause: error });
  return new BridgeError('internal_error', 'The bridge failed unexpectedly. Its logs have the details.', { cause: error });
}

function normaliseBasePath(basePath: string): string {
  const trimmed = `/${basePath.trim().replace(/^\/+|\/+$/g, '')}`;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed)) throw new Error(`The base path "${basePath}" may only hold URL path characters.`);
  return trimmed;
}
