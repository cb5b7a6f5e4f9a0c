// Cuts PingFederate's administrative API description down to what the adapter and its fake use (README.md here).
//
//   git clone https://github.com/pingidentity/pingfederate-go-client && cd pingfederate-go-client && git checkout <commit>
//   python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout, default=str)' \
//     < configurationapi/api/openapi.yaml > /tmp/pingfederate-openapi.json
//   node packages/adapter-pingfederate/test/vendor/cut-openapi.mjs /tmp/pingfederate-openapi.json <commit> \
//     > packages/adapter-pingfederate/test/vendor/pingfederate-12.1.0.4.openapi.json
//
// Kept: the operations below with their request bodies, responses and parameters, and every component schema they
// reach through $ref. Dropped: every other path, method and schema, descriptions of operations and parameters, and
// the generator's `example` values (the largest part of the document; the checks never read them).
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [input, commit] = process.argv.slice(2);
if (!input || !commit) throw new Error('usage: cut-openapi.mjs <openapi.json> <commit of pingidentity/pingfederate-go-client>');
const full = JSON.parse(readFileSync(input, 'utf8'));

/** path → methods the adapter sends (its primitives, readiness, doctor). */
const KEPT = {
  '/oauth/clients': ['get', 'post'],
  '/oauth/clients/{id}': ['get', 'put', 'delete'],
  '/oauth/clients/{id}/clientAuth/clientSecret': ['get', 'put'],
  '/oauth/authServerSettings': ['get'],
  '/administrativeAccounts/{username}': ['get'],
  '/serverSettings': ['get'],
  '/version': ['get'],
};

const withoutExamples = (node) =>
  JSON.parse(JSON.stringify(node, (key, value) => (key === 'example' || key === 'examples' ? undefined : value)));

const paths = {};
for (const [path, methods] of Object.entries(KEPT)) {
  paths[path] = {};
  for (const method of methods) {
    const operation = full.paths[path]?.[method];
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    const { description: _description, parameters = [], ...rest } = operation;
    paths[path][method] = withoutExamples({ ...rest, parameters: parameters.map(({ description: _d, ...parameter }) => parameter) });
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
        if (!full.components.schemas[name]) throw new Error(`${value} is not in the document`);
        schemas[name] = withoutExamples(full.components.schemas[name]);
        reach(schemas[name]);
      }
    } else if (key === '$ref') throw new Error(`${value}: only schema references are cut down`);
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
        'x-source': `https://github.com/pingidentity/pingfederate-go-client/blob/${commit}/configurationapi/api/openapi.yaml`,
        'x-license': 'Apache-2.0 (LICENSE.md of pingidentity/pingfederate-go-client)',
        'x-cut': 'packages/adapter-pingfederate/test/vendor/cut-openapi.mjs: only the operations and schemas the adapter and its fake use',
      },
      servers: full.servers,
      paths,
      components: { schemas: sorted },
    },
    null,
    2,
  )}\n`,
);
