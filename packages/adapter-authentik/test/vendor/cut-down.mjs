// Derives the pinned cut-downs of authentik's OpenAPI document (schema.yml) that test/fake-authentik.ts checks the
// adapter's traffic against: only the paths and methods below, and the component schemas they reach. See README.md.
//
//   git -C <goauthentik/client-go clone> show 43a493b1a90021611d7177c0892821503710dc39:schema.yml > /tmp/schema-2026.2.yml
//   node test/vendor/cut-down.mjs /tmp/schema-2026.2.yml && npx prettier --write test/vendor/*.json
//
// writes authentik-2026.2.openapi.json (the document as published) and authentik-2026.5.openapi.json (the same with
// the `grant_types` field authentik 2026.5 added; no schema.yml of 2026.5 was available: see README.md).
/* global process, structuredClone */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The operations the adapter sends and the fake serves (`/api/v3` is the document's server path). */
const USED = {
  '/admin/version/': ['get'],
  '/providers/oauth2/': ['get', 'post'],
  '/providers/oauth2/{id}/': ['get', 'put', 'patch', 'delete'],
  '/core/applications/': ['get', 'post'],
  '/core/applications/{slug}/': ['delete'],
  '/propertymappings/provider/scope/': ['get'],
};

/**
 * authentik 2026.5 (migration 0032_oauth2provider_grant_types): `grant_types`, a list of these, on the provider, its
 * create (POST, PUT) and its PATCH; optional in each (`grantTypes?` in the generated client @goauthentik/api 2026.5.6:
 * OAuth2Provider, OAuth2ProviderRequest, PatchedOAuth2ProviderRequest; GrantTypesEnum).
 */
const GRANT_TYPES_2026_5 = [
  'authorization_code',
  'implicit',
  'hybrid',
  'refresh_token',
  'client_credentials',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
];

const source = process.argv[2];
if (!source) throw new Error('usage: node cut-down.mjs <schema.yml of authentik 2026.2>');
const full = parse(readFileSync(source, 'utf8'));
const here = dirname(fileURLToPath(import.meta.url));

const paths = {};
for (const [path, methods] of Object.entries(USED)) {
  const item = full.paths[path];
  if (!item) throw new Error(`${path}: not in the document`);
  paths[path] = Object.fromEntries(
    methods.map((method) => {
      if (!item[method]) throw new Error(`${method.toUpperCase()} ${path}: not in the document`);
      // Parameters and tags are not checked by createApiDescription; they stay out to keep the copy small.
      const { requestBody, responses, operationId } = item[method];
      // Shared responses (`#/components/responses/GenericErrorResponse`) inlined, so that their bodies are checked too.
      const inlined = Object.fromEntries(
        Object.entries(responses).map(([status, response]) => [
          status,
          response.$ref ? full.components.responses[response.$ref.slice('#/components/responses/'.length)] : response,
        ]),
      );
      return [method, { operationId, ...(requestBody && { requestBody }), responses: inlined }];
    }),
  );
}

/** Every component schema the kept operations reach, transitively. */
const schemas = {};
const visit = (node) => {
  if (Array.isArray(node)) return node.forEach(visit);
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
      const name = value.slice('#/components/schemas/'.length);
      if (!schemas[name]) {
        schemas[name] = full.components.schemas[name];
        if (!schemas[name]) throw new Error(`${value}: not in the document`);
        visit(schemas[name]);
      }
    } else visit(value);
  }
};
visit(paths);
const sorted = Object.fromEntries(
  Object.keys(schemas)
    .sort()
    .map((name) => [name, schemas[name]]),
);

const document = (version, extra) => ({
  openapi: full.openapi,
  info: { title: full.info.title, version, license: full.info.license, 'x-cut-down': extra },
  servers: [{ url: '/api/v3/' }],
  paths,
  components: { schemas: sorted },
});
const write = (name, value) => writeFileSync(join(here, name), `${JSON.stringify(value, null, 2)}\n`);

write(
  'authentik-2026.2.openapi.json',
  document(full.info.version, 'the paths of test/vendor/cut-down.mjs and the component schemas they reach, unchanged'),
);

const derived = structuredClone(document('2026.5 (derived)', `authentik ${full.info.version}'s cut-down plus grant_types (see README.md)`));
derived.components.schemas.GrantTypesEnum = { enum: GRANT_TYPES_2026_5, type: 'string' };
for (const name of ['OAuth2Provider', 'OAuth2ProviderRequest', 'PatchedOAuth2ProviderRequest']) {
  const { properties } = derived.components.schemas[name];
  // After client_type, where the generated client has it.
  derived.components.schemas[name].properties = Object.fromEntries(
    Object.entries(properties).flatMap((entry) =>
      entry[0] === 'client_type'
        ? [entry, ['grant_types', { type: 'array', items: { $ref: '#/components/schemas/GrantTypesEnum' } }]]
        : [entry],
    ),
  );
}
write('authentik-2026.5.openapi.json', derived);
