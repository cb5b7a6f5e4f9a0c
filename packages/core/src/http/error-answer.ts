import type { NextFunction, Request, Response } from 'express';
import { BridgeError, errorAnswer, isBridgeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { noStore } from './middleware.js';
import { requestLogger, type RequestScope } from './request-scope.js';

/**
 * # Every error becomes `{error, error_description}`
 *
 * `errorHandler` answers the error's public description and the request id (`errorAnswer`), never its message,
 * which goes to the log; `fromExpressError` turns body-parser and Express errors into the bridge's codes.
 */
export function errorHandler(logger: Logger) {
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
