// Cuts Keycloak's admin REST API OpenAPI document down to what the adapter and its fake use (see README.md here).
//
//   curl -fsSO https://www.keycloak.org/docs-api/26.6.0/rest-api/openapi.json
//   (or: git -C <clone of kilork/keycloak> show b77d783:api/openapi.json > openapi.json, the same bytes)
//   node packages/adapter-keycloak/test/vendor/cut-openapi.mjs openapi.json 26.6.0 \
//     > packages/adapter-keycloak/test/vendor/keycloak-26.6.0.openapi.json
//
// Kept: the operations below with their path parameters, request bodies and responses; every component schema they
// reach through $ref. Dropped: summaries and descriptions, every other path, method and schema. The document has no
// `/admin/serverinfo` (Keycloak leaves it out): see keycloak-serverinfo.openapi.json and README.md here.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [input, version] = process.argv.slice(2);
if (!input || !version) throw new Error('usage: cut-openapi.mjs <openapi.json> <Keycloak version it is from>');
const bytes = readFileSync(input);
const full = JSON.parse(bytes.toString('utf8'));

/** path → the methods the adapter sends there. */
export const KEPT = {
  '/admin/realms/{realm}/clients': ['get', 'post'],
  '/admin/realms/{realm}/clients/{client-uuid}': ['get', 'put', 'delete'],
  '/admin/realms/{realm}/clients/{client-uuid}/client-secret': ['get', 'post'],
  '/admin/realms/{realm}/clients/{client-uuid}/default-client-scopes/{clientScopeId}': ['put'],
  '/admin/realms/{realm}/clients/{client-uuid}/protocol-mappers/models': ['get', 'post'],
  '/admin/realms/{realm}/clients/{client-uuid}/protocol-mappers/models/{id}': ['delete'],
  '/admin/realms/{realm}/client-scopes': ['get'],
  '/admin/realms/{realm}/default-default-client-scopes': ['get'],
  '/admin/realms/{realm}/default-optional-client-scopes': ['get'],
};

const withoutProse = (parameters = []) => parameters.map(({ description: _description, ...parameter }) => parameter);
const paths = {};
for (const [path, methods] of Object.entries(KEPT)) {
  const item = full.paths[path];
  if (!item) throw new Error(`${path} is not in the document`);
  paths[path] = { parameters: withoutProse(item.parameters) };
  for (const method of methods) {
    const operation = item[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    const { summary: _summary, description: _description, tags: _tags, parameters, ...rest } = operation;
    paths[path][method] = { ...(parameters ? { parameters: withoutProse(parameters) } : {}), ...rest };
  }
}

const schemas = {};
const reach = (node) => {
  if (Array.isArray(node)) return node.forEach(reach);
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
      const name = value.slice('#/components/schemas/'.length);
      if (!(name in schemas)) {
        schemas[name] = full.components.schemas[name];
        if (!schemas[name]) throw new Error(`schema ${name} is not in the document`);
        reach(schemas[name]);
      }
    } else reach(value);
  }
};
reach(paths);

const sorted = Object.fromEntries(
  Object.keys(schemas)
    .sort()
    .map((name) => [name, schemas[name]]),
);
process.stdout.write(
  `${JSON.stringify(
    {
      openapi: full.openapi,
      info: {
        title: full.info.title,
        version: full.info.version,
        'x-keycloak-version': version,
        'x-source': `https://www.keycloak.org/docs-api/${version}/rest-api/openapi.json`,
        'x-source-sha256': createHash('sha256').update(bytes).digest('hex'),
        'x-license': 'Apache-2.0 (generated from Keycloak, https://github.com/keycloak/keycloak/blob/main/LICENSE.txt)',
        'x-cut': 'packages/adapter-keycloak/test/vendor/cut-openapi.mjs: only the operations and schemas the adapter and its fake use',
      },
      paths,
      components: { schemas: sorted },
    },
    null,
    2,
  )}\n`,
);
