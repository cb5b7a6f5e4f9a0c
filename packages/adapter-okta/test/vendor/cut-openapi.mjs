// Cuts Okta's two OpenAPI documents (the Admin Management API and the OpenID Connect & OAuth 2.0 API, from
// okta/okta-management-openapi-spec) down to what the adapter and its fake use (see README.md here).
//
//   git clone https://github.com/okta/okta-management-openapi-spec && cd okta-management-openapi-spec
//   git show <commit>:dist/2026.06.3/management-oneOfInheritance.yaml > /tmp/okta-management.yaml
//   git show <commit>:dist/2026.06.3/oauth-oneOfInheritance.yaml > /tmp/okta-oauth.yaml
//   node packages/adapter-okta/test/vendor/cut-openapi.mjs /tmp/okta-management.yaml /tmp/okta-oauth.yaml <commit>
//
// Writes okta-management-<version>.openapi.json and okta-oauth-<version>.openapi.json beside this script. Kept: the
// operations below with their parameters, request bodies and responses (`#/components/responses/…` and parameter
// references written in place), and every component schema they reach through $ref. Dropped: descriptions,
// examples, every other path, method and schema. Two narrowings, both because the checker follows `oneOf` but not
// a discriminator's mapping (README.md here, "How it was cut"):
// - an Application (`oneOf` of nine sign-on modes, discriminated by `signOnMode`) is narrowed to
//   OpenIdConnectApplication (`OPENID_CONNECT`, `oidc_client`), the only kind the bridge creates, reads or writes;
// - a token request (TokenRequestOrgAs, TokenRequestCustomAs: `grant_type` alone, every grant's fields only behind
//   the discriminator's mapping) is narrowed to TokenRequestClientCredentials, the only grant the bridge (its
//   admin token) and its clients (the write test, the conformance suite) use.
// And one rewriting: a discriminated `oneOf` (role assignments: StandardRole or CustomRole) becomes `anyOf`, since
// without its discriminator an open member matches the others' objects too.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';

const [managementFile, oauthFile, commit] = process.argv.slice(2);
if (!managementFile || !oauthFile || !commit)
  throw new Error(
    'usage: cut-openapi.mjs <management-oneOfInheritance.yaml> <oauth-oneOfInheritance.yaml> <commit of okta/okta-management-openapi-spec>',
  );
// `yaml` is a devDependency of the repository's root package.
const YAML = createRequire(new URL('../../../../package.json', import.meta.url))('yaml');
const read = (file) => YAML.parse(readFileSync(file, 'utf8'), { maxAliasCount: -1 });

/** path → methods: what the adapter sends, what its doctor reads, and what the fake answers for the tests. */
const KEPT = {
  management: {
    file: managementFile,
    source: 'management-oneOfInheritance.yaml',
    paths: {
      // The doctor's version check (the org's pipeline).
      '/.well-known/okta-organization': ['get'],
      // create, findByNonce (q, limit, the Link header's after), find, replaceRedirectUris.
      '/api/v1/apps': ['get', 'post'],
      '/api/v1/apps/{appId}': ['get', 'put'],
      // Two-phase rotation; GET of one secret and activate are the fake's, for tests that set a secret's status.
      '/api/v1/apps/{appId}/credentials/secrets': ['get', 'post'],
      '/api/v1/apps/{appId}/credentials/secrets/{secretId}': ['get', 'delete'],
      '/api/v1/apps/{appId}/credentials/secrets/{secretId}/lifecycle/activate': ['post'],
      '/api/v1/apps/{appId}/credentials/secrets/{secretId}/lifecycle/deactivate': ['post'],
      // The doctor with an API token: its admin (`/api/v1/users/me`) and their role assignments.
      '/api/v1/users/{id}': ['get'],
      '/api/v1/users/{userId}/roles': ['get'],
    },
  },
  oauth: {
    file: oauthFile,
    source: 'oauth-oneOfInheritance.yaml',
    paths: {
      // readiness (GET, limit=1) and remove (DELETE); POST is Kong's example bridge's create, which the benchmark runs.
      '/oauth2/v1/clients': ['get', 'post'],
      '/oauth2/v1/clients/{clientId}': ['delete'],
      // The service app's admin token (private_key_jwt), and the clients' tokens at the custom authorization server.
      '/oauth2/v1/token': ['post'],
      '/oauth2/{authorizationServerId}/v1/token': ['post'],
    },
  },
};

const NARROWED = {
  TokenRequestOrgAs: 'TokenRequestClientCredentials',
  TokenRequestCustomAs: 'TokenRequestClientCredentials',
};
const DROPPED_KEYS = new Set([
  'description',
  'examples',
  'example',
  'externalDocs',
  'x-codeSamples',
  'x-okta-lifecycle',
  'x-okta-defined-as',
]);

for (const [kind, { file, source, paths: kept }] of Object.entries(KEPT)) {
  const full = read(file);
  const refOf = (node, section) => {
    const name = node.$ref.slice(`#/components/${section}/`.length);
    const found = full.components?.[section]?.[name];
    if (!found) throw new Error(`${node.$ref} is not in ${source}`);
    return found;
  };
  /** A copy without descriptions and examples, Application and token request oneOfs narrowed, responses and parameters in place. */
  const clean = (node) => {
    if (Array.isArray(node)) return node.map(clean);
    if (node === null || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#/components/responses/')) return clean(refOf(node, 'responses'));
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#/components/parameters/')) return clean(refOf(node, 'parameters'));
    if (typeof node.$ref === 'string' && node.$ref.startsWith('#/components/requestBodies/')) return clean(refOf(node, 'requestBodies'));
    if (Array.isArray(node.oneOf) && node.oneOf.some((member) => member.$ref === '#/components/schemas/OpenIdConnectApplication'))
      return { $ref: '#/components/schemas/OpenIdConnectApplication' };
    const result = {};
    for (const [key, value] of Object.entries(node)) if (!DROPPED_KEYS.has(key)) result[key] = clean(value);
    // A discriminator makes Okta's oneOf exclusive; without it (the checker ignores discriminators) open members such
    // as StandardRole and CustomRole both match, so the choice is written as the anyOf it is.
    if (Array.isArray(result.oneOf) && result.discriminator) {
      result.anyOf = result.oneOf;
      delete result.oneOf;
    }
    return result;
  };

  const paths = {};
  for (const [path, methods] of Object.entries(kept)) {
    paths[path] = {};
    for (const method of methods) {
      const operation = full.paths[path]?.[method];
      if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in ${source}`);
      const { summary, operationId, parameters = [], requestBody, responses, security } = operation;
      paths[path][method] = clean({
        summary,
        operationId,
        parameters: [...(full.paths[path].parameters ?? []), ...parameters],
        ...(requestBody && { requestBody }),
        responses,
        ...(security && { security }),
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
          const schema = full.components.schemas[name];
          if (!schema) throw new Error(`${value} is not in ${source}`);
          // A discriminator's mapping names every other kind; the narrowing keeps only the one the bridge uses.
          schemas[name] = clean(name in NARROWED ? { $ref: `#/components/schemas/${NARROWED[name]}` } : schema);
          if (schemas[name].discriminator) delete schemas[name].discriminator.mapping;
          reach(schemas[name]);
        }
      } else reach(value);
    }
  };
  reach(paths);

  const version = full.info.version;
  const sorted = Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .map((name) => [name, schemas[name]]),
  );
  const output = new URL(`./okta-${kind}-${version}.openapi.json`, import.meta.url);
  writeFileSync(
    output,
    `${JSON.stringify(
      {
        openapi: full.openapi,
        info: {
          title: full.info.title,
          version,
          license: full.info.license,
          'x-source': `https://github.com/okta/okta-management-openapi-spec/blob/${commit}/dist/${version}/${source}`,
          'x-cut': 'packages/adapter-okta/test/vendor/cut-openapi.mjs: only the operations and schemas the adapter and its fake use',
        },
        paths,
        components: { schemas: sorted },
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`${output.pathname}: ${Object.keys(paths).length} paths, ${Object.keys(sorted).length} schemas\n`);
}
