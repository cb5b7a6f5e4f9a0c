import { readFileSync } from 'node:fs';
import { createApiDescription, type ApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';

/** FusionAuth's own OpenAPI document (FusionAuth/fusionauth-openapi), cut down to what the adapter uses (README.md here). */
export const FUSIONAUTH_OPENAPI_VERSION = '1.69.0';

const pinned = JSON.parse(
  readFileSync(new URL(`./fusionauth-${FUSIONAUTH_OPENAPI_VERSION}.openapi.json`, import.meta.url), 'utf8'),
) as OpenApiDocument;

/**
 * Where FusionAuth's document is wrong about FusionAuth, and exactly how far the checks allow it (README.md here,
 * "Exceptions"). Everything else is checked as the document says.
 */
export const EXCEPTIONS = [
  {
    schema: 'Errors',
    what: 'fieldErrors is a map of field name → list of Error (the Errors page, and every FusionAuth answer), not a list of Error',
    apply: (schemas: Record<string, Record<string, unknown>>) => {
      const errors = schemas.Errors as { properties: Record<string, unknown> };
      errors.properties.fieldErrors = {
        type: 'object',
        additionalProperties: { type: 'array', items: { $ref: '#/components/schemas/Error' } },
      };
    },
  },
  {
    schema: 'Entity',
    what: 'data is a free-form JSON object (any value, as the Entity API page says), not a map of objects only',
    apply: (schemas: Record<string, Record<string, unknown>>) => {
      const entity = schemas.Entity as { properties: Record<string, unknown> };
      entity.properties.data = { type: 'object', additionalProperties: true };
    },
  },
] as const;

/** The pinned document with the exceptions above applied (a fresh copy each time). */
export function fusionauthDocument(): OpenApiDocument {
  const document = structuredClone(pinned);
  const schemas = (document.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  for (const exception of EXCEPTIONS) exception.apply(schemas);
  return document;
}

export function createFusionauthApiDescription(): ApiDescription {
  return createApiDescription({
    name: `FusionAuth API ${FUSIONAUTH_OPENAPI_VERSION} (FusionAuth/fusionauth-openapi)`,
    document: fusionauthDocument(),
  });
}
