import { describe, expect, it } from 'vitest';
import { createApiDescription, type OpenApiDocument } from '../src/index.js';

const document: OpenApiDocument = {
  openapi: '3.0.3',
  paths: {
    '/clients': {
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Client' } } } },
        responses: { '201': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Client' } } } }, '409': {} },
      },
    },
    '/clients/search': { get: { responses: { '200': {} } } },
    '/clients/{id}': {
      get: { responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Client' } } } } } },
    },
  },
  components: {
    schemas: {
      Base: { type: 'object', properties: { id: { type: 'string' } } },
      Client: {
        allOf: [
          { $ref: '#/components/schemas/Base' },
          {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string' },
              secret: { type: 'string', nullable: true },
              attributes: { type: 'object', additionalProperties: { type: 'string' } },
              redirectUris: { type: 'array', items: { type: 'string' } },
            },
          },
        ],
      },
    },
  },
};

describe('a pinned API description', () => {
  it('accepts what it describes: composed schemas, nullable fields, open maps, the server path prefix', () => {
    const api = createApiDescription({ name: 'Demo 1.0', document, basePath: '/admin' });
    expect(api.checkRequest('POST', '/admin/clients', { name: 'a', secret: null, attributes: { any: 'x' }, redirectUris: ['u'] })).toEqual(
      [],
    );
    expect(api.checkResponse('POST', '/admin/clients', 201, { id: '1', name: 'a' })).toEqual([]);
    expect(api.checkResponse('POST', '/admin/clients', 409, undefined)).toEqual([]);
    expect(api.checkRequest('GET', '/admin/clients/search', undefined)).toEqual([]);
    expect(api.checkResponse('GET', '/admin/clients/abc', 200, { id: 'abc', name: 'a' })).toEqual([]);
    expect(() => api.expectNoProblems()).not.toThrow();
  });

  it('finds an unknown field, a missing required one, a wrong type, a wrong path, method or status', () => {
    const api = createApiDescription({ name: 'Demo 1.0', document });
    expect(api.checkRequest('POST', '/clients', { name: 'a', secrt: 'typo' })).toEqual([
      'POST /clients: request body: /secrt is not described',
    ]);
    expect(api.checkRequest('POST', '/clients', { id: 'x' })[0]).toMatch(/must have required property 'name'/);
    expect(api.checkRequest('POST', '/clients', { name: 1 })[0]).toMatch(/\/name must be string/);
    expect(api.checkRequest('POST', '/clients', { name: 'a', redirectUris: [{ uri: 'x' }] })[0]).toMatch(/redirectUris\/0 must be string/);
    expect(api.checkRequest('GET', '/nowhere', undefined)).toEqual(['GET /nowhere: no such path in Demo 1.0']);
    expect(api.checkRequest('DELETE', '/clients', undefined)[0]).toMatch(/describes no DELETE/);
    expect(api.checkResponse('POST', '/clients', 500, undefined)[0]).toMatch(/lists no such status/);
    expect(api.checkRequest('POST', '/clients', undefined)[0]).toMatch(/required, none sent/);
    expect(() => api.expectNoProblems()).toThrow(/Traffic that Demo 1.0 does not describe/);
  });
});
