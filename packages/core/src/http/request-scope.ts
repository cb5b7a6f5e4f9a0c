import { randomUUID } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import type { RequestHandler, Response } from 'express';
import { measuringRequests, publish, secondsSince } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { incomingTraceContext } from '../tracing.js';
import { AnswerOutcome } from './answer-outcome.js';

/**
 * # Per request: its scope, its access log line, its metric
 *
 * `requestContext` runs first for every request: it gives the request its id and trace context (`RequestScope`,
 * read with `scope(res)`), and when the response closes writes the access log line and publishes the answer on
 * `CHANNELS.request` under its route template (`routeOf`: never a client id).
 */
/**
 * What requestContext attaches to each request (kept in res.locals, so Express's types stay untouched). The
 * rest is made only when an operation needs it: most requests need no deadline controller or answer promise.
 */
export interface RequestScope {
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

export function scope(res: Response): RequestScope {
  return res.locals.bridge as RequestScope;
}

export function requestLogger(res: Response): Logger {
  const { logger, requestId } = scope(res);
  return logger.child({ requestId });
}

/**
 * Per request: its id, the trace context it came with, and one listener on the response's close (after finish
 * when the answer left), which writes the access log line, publishes the answer on `CHANNELS.request`, tells
 * a create whether Konnect got its answer, and aborts the adapter call's deadline when Konnect hung up first.
 */
export function requestContext(logger: Logger, basePath: string): RequestHandler {
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
