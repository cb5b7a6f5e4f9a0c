// Cuts the PingOne Platform API description (management APIs, as published in patrickcping/pingone-go-sdk-v2) down
// to what the adapter and its fake use (README.md here).
//
//   git clone https://github.com/patrickcping/pingone-go-sdk-v2 && cd pingone-go-sdk-v2 && git checkout <commit>
//   python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout, default=str)' \
//     < management/api/openapi.yaml > /tmp/pingone-openapi.json
//   node packages/adapter-pingone/test/vendor/cut-openapi.mjs /tmp/pingone-openapi.json <commit> \
//     > packages/adapter-pingone/test/vendor/pingone-2023-06-29.openapi.json
//
// Kept: the operations below with their request bodies, responses (component responses inlined) and parameters, and
// every component schema they reach through $ref. Dropped: every other path, method and schema, descriptions of
// operations and parameters, the generator's `example` values, and every collection of `EntityArray._embedded` but
// the ones listed in EMBEDDED (the document types every list answer as one EntityArray whose `_embedded` names all 45
// collections of the API, which would pull in nearly every schema).
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [input, commit] = process.argv.slice(2);
if (!input || !commit) throw new Error('usage: cut-openapi.mjs <openapi.json> <commit of patrickcping/pingone-go-sdk-v2>');
const full = JSON.parse(readFileSync(input, 'utf8'));

const ENV = '/environments/{environmentID}';
const APP = `${ENV}/applications/{applicationID}`;
/** path → methods the adapter sends (its primitives, readiness, doctor). */
const KEPT = {
  [`${ENV}/applications`]: ['get', 'post'],
  [APP]: ['get', 'put', 'delete'],
  [`${APP}/secret`]: ['get', 'post', 'delete'],
  [`${APP}/grants`]: ['post'],
  [`${APP}/roleAssignments`]: ['get'],
  [`${ENV}/resources`]: ['get'],
  [`${ENV}/resources/{resourceID}/scopes`]: ['get'],
  '/roles': ['get'],
};
/** The collections of the list answers above. */
const EMBEDDED = ['applications', 'resources', 'scopes', 'roleAssignments', 'roles'];

const withoutExamples = (node) =>
  JSON.parse(JSON.stringify(node, (key, value) => (key === 'example' || key === 'examples' ? undefined : value)));
const component = (ref, kind) => {
  const name = ref.slice(`#/components/${kind}/`.length);
  const found = full.components[kind]?.[name];
  if (!found) throw new Error(`${ref} is not in the document`);
  return found;
};
const inline = (node, kind) => (typeof node?.$ref === 'string' ? component(node.$ref, kind) : node);

const paths = {};
for (const [path, methods] of Object.entries(KEPT)) {
  paths[path] = {};
  for (const method of methods) {
    const operation = full.paths[path]?.[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    const { description: _description, parameters = [], responses = {}, ...rest } = operation;
    paths[path][method] = withoutExamples({
      ...rest,
      parameters: parameters.map((parameter) => {
        const { description: _d, ...kept } = inline(parameter, 'parameters');
        return kept;
      }),
      responses: Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, inline(response, 'responses')])),
    });
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
        schemas[name] = withoutExamples(component(value, 'schemas'));
        if (name === 'EntityArray__embedded')
          schemas[name].properties = Object.fromEntries(EMBEDDED.map((collection) => [collection, schemas[name].properties[collection]]));
        reach(schemas[name]);
      }
    } else if (key === '$ref') throw new Error(`${value}: only schema references are left after inlining`);
    else reach(value);
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
        'x-source': `https://github.com/patrickcping/pingone-go-sdk-v2/blob/${commit}/management/api/openapi.yaml`,
        'x-license': 'BSD-3-Clause (LICENSE of patrickcping/pingone-go-sdk-v2)',
        'x-cut': `packages/adapter-pingone/test/vendor/cut-openapi.mjs: only the operations and schemas the adapter and its fake use; EntityArray._embedded: ${EMBEDDED.join(', ')} only`,
      },
      servers: full.servers,
      paths,
      components: { schemas: sorted },
    },
    null,
    2,
  )}\n`,
);
