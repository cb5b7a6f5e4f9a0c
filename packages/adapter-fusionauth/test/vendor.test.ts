import { readFileSync } from 'node:fs';
import { createApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFusionauth, type FakeFusionauth } from './fake-fusionauth.js';
import { createFusionauthApiDescription } from './vendor/fusionauth-api.js';

// The fake checks traffic against FusionAuth's own OpenAPI document (test/vendor): these prove the checks bite.
let idp: FakeFusionauth;
beforeAll(async () => {
  idp = await startFakeFusionauth({ api: createFusionauthApiDescription() });
});
afterAll(() => idp.close());

const headers = () => ({ authorization: idp.apiKey, 'x-fusionauth-tenantid': idp.tenantId, 'content-type': 'application/json' });

describe("FusionAuth's API description in the fake", () => {
  it('reports a misspelt field the adapter might send, and a wrong type', async () => {
    const id = idp.createForeignEntity('Checked');
    const start = idp.api.problems.length;
    await fetch(`${idp.url}/api/entity/${id}`, {
      method: 'PATCH',
      headers: headers(),
      body: JSON.stringify({ entity: { clientSecrt: 'x'.repeat(40) } }),
    });
    await fetch(`${idp.url}/api/entity/${id}`, { method: 'PATCH', headers: headers(), body: JSON.stringify({ entity: { name: 42 } }) });
    expect(idp.api.problems.slice(start)).toEqual([
      `PATCH /api/entity/${id}: request body: /entity/clientSecrt is not described`,
      expect.stringMatching(new RegExp(`^PATCH /api/entity/${id}: request body: /entity/name must be string`)),
    ]);
    expect(() => idp.api.expectNoProblems()).toThrow(/clientSecrt/);
    idp.api.problems.length = start;
  });

  it('reports a path FusionAuth does not have', async () => {
    const start = idp.api.problems.length;
    await fetch(`${idp.url}/api/entities/x`, { headers: headers() });
    expect(idp.api.problems.slice(start)[0]).toMatch(/^GET \/api\/entities\/x: no such path/);
    idp.api.problems.length = start;
  });

  it('allows exactly the documented exceptions: without them, FusionAuth-shaped traffic is reported', () => {
    const raw = JSON.parse(readFileSync(new URL('./vendor/fusionauth-1.69.0.openapi.json', import.meta.url), 'utf8')) as OpenApiDocument;
    const strict = createApiDescription({ name: 'FusionAuth 1.69.0 as published', document: raw });
    const fixed = createFusionauthApiDescription();
    const body = {
      entity: { name: 'n', type: { id: '0d9e0f1c-7b1a-4c7e-9a51-2f7c1f9b1e1a' }, data: { dcrBridgeManaged: true, scopes: ['a'] } },
    };
    const errors = { fieldErrors: { entityId: [{ code: '[couldNotConvert]entityId', message: 'Invalid entityId [x].' }] } };
    expect(strict.checkRequest('POST', '/api/entity/0d9e0f1c-7b1a-4c7e-9a51-2f7c1f9b1e1a', body).join('\n')).toMatch(
      /data\/dcrBridgeManaged must be object/,
    );
    expect(strict.checkResponse('GET', '/api/entity/x', 400, errors).join('\n')).toMatch(/fieldErrors must be array/);
    expect(fixed.checkRequest('POST', '/api/entity/0d9e0f1c-7b1a-4c7e-9a51-2f7c1f9b1e1a', body)).toEqual([]);
    expect(fixed.checkResponse('GET', '/api/entity/x', 400, errors)).toEqual([]);
    // The exceptions open nothing else: the map's entries are still lists of Error.
    expect(fixed.checkResponse('GET', '/api/entity/x', 400, { fieldErrors: { entityId: [{ code: 1 }] } }).join('\n')).toMatch(
      /fieldErrors\/entityId\/0\/code must be string/,
    );
  });
});
