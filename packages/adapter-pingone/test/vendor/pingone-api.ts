import { readFileSync } from 'node:fs';
import type { Express, NextFunction, Request, Response } from 'express';
import { createApiDescription, type ApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';

/**
 * The PingOne Platform API description (management APIs: info.version 2023-06-29), as published in
 * patrickcping/pingone-go-sdk-v2 `management/api/openapi.yaml`, cut down (README.md here).
 */
export const PINGONE_API_VERSION = '2023-06-29';
export const PLATFORM_BASE_PATH = '/v1';

const pinned = JSON.parse(
  readFileSync(new URL(`./pingone-${PINGONE_API_VERSION}.openapi.json`, import.meta.url), 'utf8'),
) as OpenApiDocument;

/**
 * Where the document is incomplete about PingOne, and exactly how far the checks allow it (README.md here,
 * "Exceptions"). Everything else is checked as the document says.
 */
export const EXCEPTIONS: ReadonlyArray<{ what: string; apply: (document: OpenApiDocument) => void }> = [
  {
    what:
      'the oneOf of an application (readOneApplication_200_response, createApplication_201_response, updateApplication_request), ' +
      'a resource (EntityArray__embedded_resources_inner) and a role (EntityArray__embedded_roles_inner) is read as anyOf: its ' +
      'members overlap (ApplicationPingOneAdminConsole requires nothing beyond what every application has, ' +
      'ResourceApplicationResource only a name, Role nothing), so every real answer matches more than one and "exactly one" ' +
      'can never hold; the document gives no discriminator. An application whose protocol is OPENID_CONNECT must match ' +
      'ApplicationOIDC (the adapter makes and reads only those)',
    apply: (document) => {
      const schemas = document.components?.schemas as Record<string, Record<string, unknown>>;
      for (const name of [
        'readOneApplication_200_response',
        'createApplication_201_response',
        'updateApplication_request',
        'EntityArray__embedded_resources_inner',
        'EntityArray__embedded_roles_inner',
      ]) {
        const { oneOf, ...rest } = schemas[name] as { oneOf: unknown[] };
        schemas[name] = { ...rest, anyOf: oneOf };
        if (name.includes('Application'))
          Object.assign(schemas[name], {
            if: { required: ['protocol'], properties: { protocol: { const: 'OPENID_CONNECT' } } },
            then: { $ref: '#/components/schemas/ApplicationOIDC' },
          });
      }
    },
  },
  {
    what:
      "a 429 or 5xx answer may be the conformance fault kit's `{error, error_description}` besides PingOne's P1Error: it " +
      "stands for a gateway's or proxy's answer in front of PingOne, not for PingOne's own",
    apply: (document) => {
      const kit = { type: 'object', properties: { error: { type: 'string' }, error_description: { type: 'string' } } };
      for (const operations of Object.values(document.paths))
        for (const operation of Object.values(operations) as Array<{
          responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
        }>)
          for (const status of ['429', '500']) {
            const json = operation.responses[status]?.content?.['application/json'];
            if (json) json.schema = { anyOf: [json.schema, kit] };
          }
    },
  },
];

/** The pinned document with the exceptions above applied (a fresh copy each time). */
export function pingOneDocument(): OpenApiDocument {
  const document = structuredClone(pinned);
  for (const exception of EXCEPTIONS) exception.apply(document);
  return document;
}

export function createPingOneApiDescription(): ApiDescription {
  return createApiDescription({
    name: `PingOne Platform API ${PINGONE_API_VERSION} (pingone-go-sdk-v2 management/api/openapi.yaml)`,
    document: pingOneDocument(),
    basePath: PLATFORM_BASE_PATH,
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
