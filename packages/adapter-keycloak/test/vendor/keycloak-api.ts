import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApiDescription, type ApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';

/** The Keycloak release whose published admin REST API OpenAPI document is pinned here (README.md here). */
export const KEYCLOAK_OPENAPI_VERSION = '26.6.0';

const read = (file: string) => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as OpenApiDocument;
const pinned = read(`./keycloak-${KEYCLOAK_OPENAPI_VERSION}.openapi.json`);
const serverInfo = read('./keycloak-serverinfo.openapi.json');

type Responses = Record<string, { description: string }>;
type Operation = { responses?: Responses };

/**
 * Where Keycloak's document says less than Keycloak does, and exactly how far the checks allow it (README.md here,
 * "Exceptions"). Everything else is checked as the document says.
 */
export const EXCEPTIONS = [
  {
    what:
      'GET /admin/serverinfo is not in the document (Keycloak leaves the endpoint out of it); it is described by keycloak-serverinfo.openapi.json, ' +
      "written from Keycloak's ServerInfoRepresentation and SystemInfoRepresentation",
    apply(document: OpenApiDocument) {
      Object.assign(document.paths, serverInfo.paths);
      Object.assign(document.components?.schemas ?? {}, serverInfo.components?.schemas);
    },
  },
  {
    what:
      'every admin operation may answer 401 (no or expired bearer token: AdminRoot.authenticateRealmAdminRequest), 403 (the admin lacks the ' +
      'permission: ForbiddenException from the permission evaluators) and 404 (an unknown realm, client, mapper or client scope: ' +
      'NotFoundException); the document lists these for a few operations only',
    apply(document: OpenApiDocument) {
      for (const item of Object.values(document.paths))
        for (const [method, operation] of Object.entries(item))
          if (method !== 'parameters') {
            const responses = ((operation as Operation).responses ??= {});
            for (const [status, description] of [
              ['401', 'Unauthorized'],
              ['403', 'Forbidden'],
              ['404', 'Not Found'],
            ] as const)
              responses[status] ??= { description };
          }
    },
  },
  {
    what: "POST /admin/realms/{realm}/clients may answer 400 (a client Keycloak's validation refuses, e.g. a redirect URI that is not a URI: ErrorResponse)",
    apply(document: OpenApiDocument) {
      const create = document.paths['/admin/realms/{realm}/clients']?.post as Operation;
      (create.responses ??= {})['400'] ??= { description: 'Bad Request' };
    },
  },
] as const;

/** The pinned document with the exceptions above applied (a fresh copy each time). */
export function keycloakDocument(): OpenApiDocument {
  const document = structuredClone(pinned);
  for (const exception of EXCEPTIONS) exception.apply(document);
  return document;
}

/** `pathPrefix`: the prefix the server serves Keycloak under (`/auth` on older servers); the document's paths start at `/admin`. */
export function createKeycloakApiDescription(pathPrefix = ''): ApiDescription {
  return createApiDescription({
    name: `Keycloak ${KEYCLOAK_OPENAPI_VERSION} admin REST API (keycloak.org/docs-api/${KEYCLOAK_OPENAPI_VERSION}/rest-api/openapi.json)`,
    document: keycloakDocument(),
    basePath: pathPrefix,
  });
}

/**
 * Express middleware: every admin request (`{prefix}/admin/…`) as it arrived and the answer the fake gave to it, checked
 * against `api`. Mount it after the fault kit (failures a test injects are the test's, not Keycloak's) and after a JSON
 * body parser. The token endpoint is OpenID Connect, not the admin REST API: it is not checked.
 */
export function checkAdminTraffic(api: ApiDescription, pathPrefix: string) {
  return (
    req: IncomingMessage & { path: string; body?: unknown; is(type: string): string | false | null },
    res: ServerResponse,
    next: () => void,
  ) => {
    const path = req.path;
    if (!path.startsWith(`${pathPrefix}/admin/`)) return next();
    api.checkRequest(req.method ?? 'GET', path, req.is('json') ? req.body : undefined);
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) =>
      typeof chunk === 'function' ? end(chunk, ...rest) : (keep(chunk), end(chunk, ...rest))) as typeof res.end;
    res.on('finish', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text !== '' && /json/.test(String(res.getHeader('content-type') ?? '')) ? (JSON.parse(text) as unknown) : undefined;
      api.checkResponse(req.method ?? 'GET', path, res.statusCode, body);
    });
    next();
  };
}
