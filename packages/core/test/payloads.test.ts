import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileRequestValidators, GENERATED_PATH, OPENAPI_PATH } from '../scripts/request-validators.js';
import type { OAuthGrantType } from '../src/index.js';
import { parseEvent, parseRegistration } from '../src/http/payloads.js';
import { eventBody, konnectBody } from './fixtures.js';

/**
 * Request validation is compiled from the served OpenAPI document (src/http/openapi.json) into
 * src/http/request-validators.generated.ts; these tests keep the two, and the fields payloads.ts reads, together.
 */
type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const documentText = readFileSync(OPENAPI_PATH, 'utf8');
const schemas = (JSON.parse(documentText) as Schema).components.schemas as Record<string, Schema>;

function propertiesOf(...names: string[]): Set<string> {
  return new Set(names.flatMap((name) => Object.keys(schemas[name]!.properties as Schema)));
}

/** Runs `parse` on a body that records every field read from it. */
function fieldsRead(body: Record<string, unknown>, parse: (body: unknown) => unknown): string[] {
  const read = new Set<string>();
  const watched = new Proxy(body, {
    get(target, key, receiver) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
  parse(watched);
  return [...read];
}

function refusal(parse: () => unknown): { code: string; message: string } {
  try {
    parse();
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
  throw new Error('accepted');
}

describe('request validation compiled from the OpenAPI document', () => {
  it('is checked in as what the document compiles to (run pnpm --filter @dcr-bridge/core generate:validators after changing it)', async () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(await compileRequestValidators(documentText));
  });

  it('reads no request field the document does not describe', () => {
    const application = propertiesOf('ApplicationPayload');
    for (const field of fieldsRead(konnectBody(), parseRegistration)) expect(application, field).toContain(field);

    const event = propertiesOf('EventHookBase', 'EventHookUpdateApplication', 'EventHookAddRegistration', 'EventHookRemoveRegistration');
    const events = [
      eventBody('c1'),
      eventBody('c1', { event_type: 'add_registration', api_product_version_id: 'v1', audience: 'orders' }),
      eventBody('c1', { event_type: 'remove_registration', api_product_version_id: 'v1' }),
    ];
    for (const body of events)
      for (const field of fieldsRead(body, (watched) => parseEvent(watched, 'c1'))) expect(event, field).toContain(field);
  });

  it('lists every OAuth grant type of the contract, and Konnect’s bearer, as the grant types it takes', () => {
    const oauthGrants: Record<OAuthGrantType, true> = {
      client_credentials: true,
      authorization_code: true,
      refresh_token: true,
      implicit: true,
      password: true,
      'urn:ietf:params:oauth:grant-type:device_code': true,
      'urn:ietf:params:oauth:grant-type:jwt-bearer': true,
      'urn:ietf:params:oauth:grant-type:token-exchange': true,
    };
    expect([...(schemas.GrantType!.enum as string[])].sort()).toEqual(['bearer', ...Object.keys(oauthGrants)].sort());
    const registration = parseRegistration(konnectBody({ grant_types: [...schemas.GrantType!.enum, 'bearer'] }));
    expect(registration.grantTypes).toEqual(Object.keys(oauthGrants));
  });

  it.each([
    [{ grant_types: [''] }, 'invalid_request', 'grant_types[0] must be a non-empty string.'],
    [{ grant_types: ['bearer', 'magic'] }, 'invalid_client_metadata', 'grant_types[1] "magic" is not a grant type the bridge knows'],
    [{ scopes: null }, 'invalid_request', 'scopes is required.'],
    [{ redirect_uris: [' '] }, 'invalid_request', 'redirect_uris[0] must be a non-empty string.'],
    [{ token_endpoint_auth_method: '\t' }, 'invalid_request', 'token_endpoint_auth_method must not be empty.'],
  ])('refuses the application %j as before: %s, %s', (override, code, message) => {
    const refused = refusal(() => parseRegistration(konnectBody(override)));
    expect(refused.code).toBe(code);
    expect(refused.message.startsWith(message)).toBe(true);
  });

  it.each([
    [{ event_type: undefined }, 'event_type is required.'],
    [{ event_type: ' ' }, 'event_type must not be empty.'],
    [{ event_type: 'rename' }, 'event_type "rename" is not one of update_application, add_registration, remove_registration.'],
    [{ application_name: '  ' }, 'application_name must not be empty.'],
    [{ application_id: 7 }, 'application_id must be a string.'],
    [{ redirect_uris: undefined }, 'redirect_uris is required.'],
    [{ redirect_uris: [null] }, 'redirect_uris[0] must be a non-empty string.'],
    [{ event_type: 'add_registration' }, 'api_product_version_id is required.'],
    [{ event_type: 'remove_registration', api_product_version_id: 'v1', audience: 5 }, 'audience must be a string.'],
  ])('refuses the event %j as before, naming the field', (override, message) => {
    expect(refusal(() => parseEvent(eventBody('c1', override), 'c1'))).toEqual({ code: 'invalid_request', message });
  });

  it('takes an event without an audience, or with a null or empty one, as no audience', () => {
    for (const audience of [undefined, null, '']) {
      const event = parseEvent(eventBody('c1', { event_type: 'add_registration', api_product_version_id: 'v1', audience }), 'c1');
      expect(event).toEqual(expect.objectContaining({ type: 'add_registration', apiProductVersionId: 'v1' }));
      expect(event).not.toHaveProperty('audience');
    }
  });
});
