import type { RequestHandler, Response } from 'express';
import { BridgeError } from '../errors.js';

/**
 * # The checks a request passes before its handler, and the answer headers they share
 *
 * The API key (`authenticate`), JSON bodies (`requireJson`), the methods a route allows (`methodNotAllowed`),
 * and `noStore` for every answer that carries a secret or an error.
 */
export function authenticate(verify: (key: string | undefined) => boolean): RequestHandler {
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
export const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.get('content-length') !== undefined ? req.get('content-length') !== '0' : req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is(['application/json', '+json'])) {
    return next(
      new BridgeError('unsupported_media_type', `Content-Type must be application/json (got ${req.get('content-type') ?? 'none'}).`),
    );
  }
  next();
};

export function methodNotAllowed(allowed: string): RequestHandler {
  return (req, res, next) => {
    res.set('allow', allowed);
    next(new BridgeError('method_not_allowed', `${req.method} is not allowed here; use ${allowed}.`));
  };
}

export function noStore(res: Response): Response {
  return res.set('cache-control', 'no-store').set('pragma', 'no-cache');
}
