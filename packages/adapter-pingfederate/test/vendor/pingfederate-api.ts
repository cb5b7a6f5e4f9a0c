import { readFileSync } from 'node:fs';
import type { Express, NextFunction, Request, Response } from 'express';
import { createApiDescription, type ApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';

/** PingFederate's administrative API description (pingidentity/pingfederate-go-client, branch v1210), cut down (README.md here). */
export const PINGFEDERATE_API_VERSION = '12.1.0.4';
export const ADMIN_BASE_PATH = '/pf-admin-api/v1';

const pinned = JSON.parse(
  readFileSync(new URL(`./pingfederate-${PINGFEDERATE_API_VERSION}.openapi.json`, import.meta.url), 'utf8'),
) as OpenApiDocument;

/**
 * Where the document is incomplete about PingFederate, and exactly how far the checks allow it (README.md here,
 * "Exceptions"). Everything else is checked as the document says.
 */
export const EXCEPTIONS = [
  {
    what:
      'every operation may answer 401 (credentials refused), 403 (a role that may not, or no X-XSRF-Header), 429 (a proxy or ' +
      'load balancer limiting the rate) and 5xx (a failure): the document lists 401 and 429 for no operation, and 403 and ' +
      '500 only for some others; 401 and 403 bodies are checked as ApiResult when there is one, 429 and 5xx bodies (a ' +
      "proxy's, or the fault kit's) not at all",
    apply: (document: OpenApiDocument) => {
      const apiResult = { content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiResult' } } } };
      for (const operations of Object.values(document.paths))
        for (const operation of Object.values(operations) as Array<{ responses: Record<string, unknown> }>)
          operation.responses = {
            '401': apiResult,
            '403': apiResult,
            '429': { description: 'rate limited (dcr-bridge exception)' },
            '5XX': { description: 'a failure (dcr-bridge exception)' },
            ...operation.responses,
          };
    },
  },
] as const;

/** The pinned document with the exceptions above applied (a fresh copy each time). */
export function pingFederateDocument(): OpenApiDocument {
  const document = structuredClone(pinned);
  for (const exception of EXCEPTIONS) exception.apply(document);
  return document;
}

export function createPingFederateApiDescription(): ApiDescription {
  return createApiDescription({
    name: `PingFederate ${PINGFEDERATE_API_VERSION} administrative API (pingidentity/pingfederate-go-client)`,
    document: pingFederateDocument(),
    basePath: ADMIN_BASE_PATH,
  });
}

/**
 * Checks every request under `basePath` and every answer as it left (the fake's own, or a fault the kit injected)
 * against `api`. Mount it before the fault kit: it reads no body itself (the kit may hold and replay the raw body),
 * so a request is checked once answered, with the body the fake's JSON parser read; a request with a body that
 * was answered before any parser read it (a fault, a refused credential) has only its path and method checked
 * (with its answer).
 */
export function checkTraffic(app: Express, basePath: string, api: ApiDescription): void {
  app.use(basePath, (req: Request, res: Response, next: NextFunction) => {
    const path = `${basePath}${req.path}`;
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) =>
      typeof chunk === 'function' ? end(chunk, ...rest) : (keep(chunk), end(chunk, ...rest))) as typeof res.end;
    res.on('finish', () => {
      const sent = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
      // Express 5 leaves req.body undefined until a parser read the body.
      const parsed = req.body !== undefined;
      if (!sent) api.checkRequest(req.method, path, undefined);
      else if (parsed) api.checkRequest(req.method, path, req.is('json') ? req.body : undefined);
      // else: answered before any parser read the body; the answer's check below still checks the path and method.
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      if (text !== '' && /json/.test(String(res.getHeader('content-type') ?? ''))) body = JSON.parse(text);
      api.checkResponse(req.method, path, res.statusCode, body);
    });
    next();
  });
}
