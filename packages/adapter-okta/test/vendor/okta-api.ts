import { readFileSync } from 'node:fs';
import { createApiDescription, type ApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';

/**
 * Okta's own OpenAPI documents (okta/okta-management-openapi-spec, release 2026.06.3), cut down to what the adapter
 * uses (README.md here): the Admin Management API (`/api/v1/…`, `/.well-known/okta-organization`) and the OpenID
 * Connect & OAuth 2.0 API (`/oauth2/…`).
 */
export const OKTA_OPENAPI_VERSION = '2026.06.3';

const pinned = (kind: 'management' | 'oauth') =>
  JSON.parse(readFileSync(new URL(`./okta-${kind}-${OKTA_OPENAPI_VERSION}.openapi.json`, import.meta.url), 'utf8')) as OpenApiDocument;

type Schemas = Record<string, Record<string, unknown>>;
type Operation = { responses: Record<string, unknown> };

/**
 * Where Okta's documents leave out what Okta does, and exactly how far the checks allow it (README.md here,
 * "Exceptions"). Everything else is checked as the documents say.
 */
export const EXCEPTIONS = [
  {
    document: 'oauth',
    what: "a token request's client authentication is not among TokenRequest's fields: client_id and client_secret (client_secret_post), client_assertion_type and client_assertion (private_key_jwt, RFC 7523), which the token endpoint's own description and Okta's guides name",
    apply(document: OpenApiDocument) {
      const request = (document.components?.schemas as Schemas).TokenRequest as { properties: Record<string, unknown> };
      for (const field of ['client_id', 'client_secret', 'client_assertion_type', 'client_assertion'])
        request.properties[field] = { type: 'string' };
    },
  },
  {
    document: 'management',
    what: 'an OIDC app as Okta answers it (its own example OpenidConnectResponseEx, and so the PUT that sends it back whole) has null in accessibility.errorRedirectUrl and loginRedirectUrl, settings.notes.admin and enduser, settings.notifications.vpn.message and helpUrl, which the schemas type as string only; and an empty settings.app object, which OpenIdConnectApplicationSettings does not describe (only {} is allowed)',
    apply(document: OpenApiDocument) {
      const schemas = document.components?.schemas as Schemas;
      const nullable = (schema: string, fields: string[]) => {
        const properties = (schemas[schema] as { properties: Record<string, Record<string, unknown>> }).properties;
        for (const field of fields) properties[field] = { ...properties[field], nullable: true };
      };
      nullable('ApplicationAccessibility', ['errorRedirectUrl', 'loginRedirectUrl']);
      nullable('ApplicationSettingsNotes', ['admin', 'enduser']);
      nullable('ApplicationSettingsNotificationsVpn', ['message', 'helpUrl']);
      const oidcSettings = (schemas.OpenIdConnectApplicationSettings as { allOf: Array<{ properties?: Record<string, unknown> }> }).allOf;
      const own = oidcSettings.find((member) => member.properties !== undefined);
      if (!own?.properties) throw new Error('OpenIdConnectApplicationSettings has changed: check this exception');
      own.properties.app = { type: 'object', additionalProperties: false };
    },
  },
  {
    document: 'oauth',
    what: 'DELETE /oauth2/v1/clients/{clientId} of a client that is gone: the document lists 404 only, Okta\'s former Client Application reference (okta-developer-docs reference/api/oauth-clients) documented 401 `{error: invalid_client, error_description}`; the fake answers either (`unknownClientOnDelete`), the adapter takes both for "already gone"',
    apply(document: OpenApiDocument) {
      const remove = (document.paths['/oauth2/v1/clients/{clientId}'] as { delete: Operation }).delete;
      remove.responses['401'] = {
        content: {
          'application/json': {
            schema: {
              anyOf: [
                // A refused admin credential (E0000011): Okta's Error, with its code.
                { $ref: '#/components/schemas/Error', required: ['errorCode'] },
                {
                  type: 'object',
                  required: ['error'],
                  properties: { error: { type: 'string', enum: ['invalid_client'] }, error_description: { type: 'string' } },
                },
              ],
            },
          },
        },
      };
    },
  },
  {
    document: 'both',
    what: 'a refused admin credential answers 401 E0000011 (Error) on every operation, as the documents list it for the client secrets API; the others leave the 401 out',
    apply(document: OpenApiDocument) {
      for (const [path, methods] of Object.entries(document.paths)) {
        if (path.includes('/v1/token') || path.startsWith('/.well-known/')) continue;
        for (const operation of Object.values(methods) as Operation[])
          operation.responses['401'] ??= {
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          };
      }
    },
  },
] as const;

/** The pinned documents with the exceptions above applied (`exceptions: false`: as Okta publishes them); a fresh copy each time. */
export function oktaDocuments({ exceptions = true } = {}): { management: OpenApiDocument; oauth: OpenApiDocument } {
  const documents = { management: pinned('management'), oauth: pinned('oauth') };
  if (!exceptions) return documents;
  for (const exception of EXCEPTIONS)
    for (const kind of ['management', 'oauth'] as const)
      if (exception.document === kind || exception.document === 'both') exception.apply(documents[kind]);
  return documents;
}

/**
 * Both documents as one description: `/oauth2/…` against the OAuth 2.0 document, everything else against the
 * management one.
 */
export function createOktaApiDescription({ exceptions = true } = {}): ApiDescription {
  const documents = oktaDocuments({ exceptions });
  const management = createApiDescription({ name: `Okta Admin Management API ${OKTA_OPENAPI_VERSION}`, document: documents.management });
  const oauth = createApiDescription({ name: `Okta OpenID Connect & OAuth 2.0 API ${OKTA_OPENAPI_VERSION}`, document: documents.oauth });
  const problems: string[] = [];
  const of = (path: string) => (path.startsWith('/oauth2/') ? oauth : management);
  const record = (found: string[]) => (problems.push(...found), found);
  return {
    name: `Okta APIs ${OKTA_OPENAPI_VERSION} (okta/okta-management-openapi-spec)`,
    problems,
    checkRequest: (method, path, body) => record(of(path).checkRequest(method, path, body)),
    checkResponse: (method, path, status, body) => record(of(path).checkResponse(method, path, status, body)),
    expectNoProblems() {
      if (problems.length > 0)
        throw new Error(`Traffic that Okta's APIs ${OKTA_OPENAPI_VERSION} do not describe:\n- ${problems.join('\n- ')}`);
    },
  };
}
