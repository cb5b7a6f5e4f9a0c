// Cuts FusionAuth's OpenAPI document down to what the adapter and its fake use (see README.md here).
//
//   git clone https://github.com/FusionAuth/fusionauth-openapi && cd fusionauth-openapi && git checkout <commit>
//   npx --yes js-yaml@4 openapi.yaml > /tmp/fusionauth-openapi.json
//   node packages/adapter-fusionauth/test/vendor/cut-openapi.mjs /tmp/fusionauth-openapi.json <commit> \
//     > packages/adapter-fusionauth/test/vendor/fusionauth-1.69.0.openapi.json
//
// Kept: the operations below, with their responses and request bodies; every component schema they reach
// through $ref. Dropped: descriptions of operations and parameters, every other path, method and schema.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [input, commit] = process.argv.slice(2);
if (!input || !commit) throw new Error('usage: cut-openapi.mjs <openapi.json> <commit of FusionAuth/fusionauth-openapi>');
const full = JSON.parse(readFileSync(input, 'utf8'));

/** path → methods the adapter sends (or the conformance backdoor, for the token endpoint). */
const KEPT = {
  '/api/entity/{entityId}': ['get', 'post', 'put', 'patch', 'delete'],
  '/api/entity/{entityId}/grant': ['post'],
  '/api/entity/type/{entityTypeId}': ['get'],
  '/api/system/version': ['get'],
  '/oauth2/token': ['post'],
};

const paths = {};
for (const [path, methods] of Object.entries(KEPT)) {
  paths[path] = {};
  for (const method of methods) {
    const operation = full.paths[path]?.[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    const { description: _description, parameters = [], ...rest } = operation;
    paths[path][method] = { ...rest, parameters: parameters.map(({ description: _d, ...parameter }) => parameter) };
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
        license: full.info.license,
        'x-source': `https://github.com/FusionAuth/fusionauth-openapi/blob/${commit}/openapi.yaml`,
        'x-cut': 'packages/adapter-fusionauth/test/vendor/cut-openapi.mjs: only the operations and schemas the adapter and its fake use',
      },
      paths,
      components: { schemas: sorted },
    },
    null,
    2,
  )}\n`,
);
