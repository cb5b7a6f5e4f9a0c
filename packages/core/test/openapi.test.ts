import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeError } from '../src/index.js';
import { createBridgeApp } from '../src/http.js';
import { ERROR_CODES } from '../src/errors.js';
import { eventBody, fakeAdapter, konnectBody } from './fixtures.js';
import { listen } from './helpers.js';

/**
 * The project's OpenAPI document (src/http/openapi.json, served at GET /openapi.json) is checked against what the HTTP layer
 * really answers, and its required request fields against Kong's published spec.
 */
type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const document = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'src', 'http', 'openapi.json'), 'utf8')) as Schema;
const kongSpecPath = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'spec', 'konnect-dcr-handler.openapi.yaml');

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  return (schema.$ref as string)
    .slice(2)
    .split('/')
    .reduce((node: Schema, key) => node[key], document);
}

/** The subset of JSON Schema the document uses; returns the problems found. */
function validate(value: unknown, raw: Schema, at = '$'): string[] {
  const schema = resolve(raw);
  const problems: string[] = [];
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  if (schema.type === 'integer' ? !Number.isInteger(value) : schema.type && schema.type !== type)
    return [`${at} should be ${schema.type}, is ${type}`];
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at} = ${JSON.stringify(value)} is not in ${schema.enum.join('|')}`);
  if (typeof value === 'string') {
    if (schema.minLength && value.length < schema.minLength) problems.push(`${at} is shorter than ${schema.minLength}`);
    if (schema.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value))
      problems.push(`${at} is not a date-time`);
  }
  if (Array.isArray(value)) value.forEach((item, i) => problems.push(...validate(item, schema.items ?? {}, `${at}[${i}]`)));
  if (type === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in record)) problems.push(`${at}.${key} is missing`);
    for (const [key, item] of Object.entries(record)) {
      const property = schema.properties?.[key];
      if (property) problems.push(...validate(item, property, `${at}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${at}.${key} is not in the document`);
    }
  }
  return problems;
}

function responseSchema(path: string, method: string, status: number): Schema | undefined {
  const response = resolve(document.paths[path][method].responses[String(status)] ?? {});
  if (!response.description && !response.content) throw new Error(`${method.toUpperCase()} ${path} → ${status} is not documented`);
  return response.content?.['application/json']?.schema;
}

let url = '';
let close: () => Promise<void>;
beforeAll(async () => {
  const adapter = fakeAdapter({
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: false },
    rotateSecret: async (clientId: string) => {
      const errors: Record<string, BridgeError> = {
        foreign: new BridgeError('client_not_managed', 'Not ours.'),
        missing: new BridgeError('not_found', 'No such client.'),
        down: new BridgeError('idp_unavailable', 'Down.'),
        slow: new BridgeError('idp_timeout', 'Slow.'),
        busy: new BridgeError('idp_rate_limited', 'Busy.', { retryAfterSeconds: 3 }),
      };
      if (errors[clientId]) throw errors[clientId];
      return { clientId, clientSecret: 'new-secret' };
    },
  });
  const server = await listen(createBridgeApp({ adapter, apiKeys: ['document_key_123'], bodyLimitBytes: 2048 }));
  url = server.url;
  close = server.close;
});
afterAll(() => close());

const cases: Array<[string, string, string, { body?: unknown; key?: string | null; contentType?: string }]> = [
  ['/', 'post', '/', { body: konnectBody() }],
  ['/', 'post', '/', { body: konnectBody({ scopes: 'x' }) }],
  ['/', 'post', '/', { body: konnectBody(), key: null }],
  ['/', 'post', '/', { body: konnectBody({ application_description: 'x'.repeat(5000) }) }],
  ['/', 'post', '/', { body: 'a=b', contentType: 'application/x-www-form-urlencoded' }],
  ['/{clientId}', 'delete', '/c1', {}],
  ['/{clientId}/new-secret', 'post', '/c1/new-secret', {}],
  ['/{clientId}/new-secret', 'post', '/foreign/new-secret', {}],
  ['/{clientId}/new-secret', 'post', '/missing/new-secret', {}],
  ['/{clientId}/new-secret', 'post', '/down/new-secret', {}],
  ['/{clientId}/new-secret', 'post', '/slow/new-secret', {}],
  ['/{clientId}/new-secret', 'post', '/busy/new-secret', {}],
  ['/{clientId}/event-hook', 'post', '/c1/event-hook', { body: eventBody('c1') }],
  ['/{clientId}/event-hook', 'post', '/c1/event-hook', { body: eventBody('c2') }],
  ['/healthz', 'get', '/healthz', { key: null }],
  ['/readyz', 'get', '/readyz', { key: null }],
  ['/openapi.json', 'get', '/openapi.json', { key: null }],
];

describe('the OpenAPI document', () => {
  it.each(cases)('documents %s %s (%s) and the answer matches it', async (path, method, requestPath, options) => {
    const headers: Record<string, string> = {};
    if (options.key !== null) headers['x-api-key'] = options.key ?? 'document_key_123';
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await fetch(`${url}${requestPath}`, {
      method: method.toUpperCase(),
      headers,
      body: typeof options.body === 'string' ? options.body : options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    const schema = responseSchema(path, method, res.status);
    if (schema) expect(validate(JSON.parse(text), schema), `${res.status} ${text}`).toEqual([]);
    else expect(text).toBe('');
    if (res.status === 503 && path !== '/readyz') expect(res.headers.get('retry-after')).toBe('3');
  });

  it('is served as it is at GET /openapi.json without the API key, at the root and under the base path', async () => {
    const based = await listen(createBridgeApp({ adapter: fakeAdapter(), apiKeys: ['document_key_123'], basePath: '/v1/dcr' }));
    try {
      for (const at of [`${url}/openapi.json`, `${based.url}/openapi.json`, `${based.url}/v1/dcr/openapi.json`]) {
        const res = await fetch(at);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await res.json()).toEqual(document);
      }
    } finally {
      await based.close();
    }
  });

  it('lists exactly the error codes of errors.ts', () => {
    expect([...document.components.schemas.Error.properties.error.enum].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it.skipIf(!existsSync(kongSpecPath))(
    "requires the same request fields as Kong's published spec (needs ../shared/spec beside the repository)",
    () => {
      const kong = parse(readFileSync(kongSpecPath, 'utf8')) as Schema;
      const ours = document.components.schemas;
      expect([...ours.ApplicationPayload.required].sort()).toEqual([...kong.components.schemas.ApplicationPayload.required].sort());
      for (const name of ['EventHookBase', 'EventHookUpdateApplication', 'EventHookAddRegistration', 'EventHookRemoveRegistration']) {
        expect([...ours[name].required].sort(), name).toEqual([...kong.components.schemas[name].required].sort());
      }
      expect(ours.EventType.enum).toEqual(kong.components.schemas.EventType.enum);
      expect(ours.EventHook.allOf[1].discriminator).toEqual(kong.components.schemas.EventHook.allOf[1].discriminator);
      for (const name of ['ApplicationResponse', 'SecretResponse']) {
        expect(Object.keys(ours[name].properties).sort()).toEqual(Object.keys(kong.components.schemas[name].properties).sort());
      }
    },
  );
});
