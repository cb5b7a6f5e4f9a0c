import {
  JOURNAL_PREFIX,
  type DcrAdapter,
  createJsonStore,
  createMemoryDriver,
  readAdapterOptions,
  type JournalEntry,
  type StateStore,
} from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { type BridgeHarness, konnectApplication, konnectEvent, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOktaAdapter, dcrBridgeAdapter } from '../src/index.js';
import { oktaApp } from '../src/mapping.js';
import { startOrg } from './setup.js';
import { createOktaApiDescription } from './vendor/okta-api.js';

let org: Awaited<ReturnType<typeof startOrg>>;
let bridge: BridgeHarness;
let adapter: ReturnType<typeof createOktaAdapter>;
const adapterFor = (journal?: StateStore) =>
  createOktaAdapter({ domain: org.okta.url, auth: { clientId: org.okta.serviceApp.clientId, privateKey: org.pem }, journal });

beforeAll(async () => {
  org = await startOrg();
  adapter = adapterFor();
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await org.okta.close();
  // Every request the adapter sent and every answer the fake gave, against Okta's pinned API descriptions.
  org.okta.api.expectNoProblems();
});

describe('create', () => {
  it('makes a service app for client_credentials and a web app for authorization_code, marked in the app profile', async () => {
    const service = await bridge.call('POST', '/', { body: konnectApplication({ client_name: 'Billing' }) });
    expect(org.okta.client(service.body.client_id)?.settings).toMatchObject({
      application_type: 'service',
      response_types: ['token'],
      grant_types: ['client_credentials'],
    });
    expect(org.okta.client(service.body.client_id)?.settings.client_name).toMatch(/^Billing-[a-z0-9]{8}$/);
    const web = await bridge.call('POST', '/', {
      body: konnectApplication({
        grant_types: ['authorization_code', 'refresh_token', 'bearer'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    expect(web.status).toBe(201);
    const client = org.okta.client(web.body.client_id);
    expect(client?.settings).toMatchObject({
      application_type: 'web',
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(client?.profile).toMatchObject({
      dcrBridge: { managed: true, portalId: expect.any(String), dcrProviderId: expect.any(String) },
    });
    // As /oauth2/v1/clients would have made it (the Apps API alone would default to TRUSTED).
    expect(client?.app).toMatchObject({ status: 'ACTIVE', settings: { oauthClient: { consent_method: 'REQUIRED' } } });
    expect(await org.okta.clientCredentials(service.body.client_id, service.body.client_secret)).toBe(true);
  });

  it('refuses what Okta cannot do, creating nothing', async () => {
    const before = org.okta.clientCount();
    const method = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'private_key_jwt' }) });
    expect(method.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining('"private_key_jwt"') });
    const refresh = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['client_credentials', 'refresh_token'] }) });
    expect(refresh.body.error_description).toContain('refresh_token only together with authorization_code');
    const noUris = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['authorization_code'], redirect_uris: [] }) });
    expect(noUris.status).toBe(400);
    expect(noUris.body.error).toBe('invalid_redirect_uri');
    expect(org.okta.clientCount()).toBe(before);
  });

  it("leaves no client behind when Okta's answer to the create is lost: found by its label and deleted", async () => {
    const before = org.okta.clientCount();
    org.okta.faults.faultNext('POST', /^\/api\/v1\/apps$/, 'processed_answer_lost');
    const start = org.okta.requests.length;
    const res = await bridge.call('POST', '/', { body: konnectApplication({ client_name: 'Answer lost' }) });
    expect(res.status).toBeGreaterThanOrEqual(500);
    await adapter.drained?.();
    expect(searchedNames(org.okta.requests.slice(start))).toEqual([expect.stringMatching(/^Answer lost-[a-z0-9]{8}$/)]);
    expect(org.okta.clientCount()).toBe(before);
  });
});

const operation = (answered: Promise<boolean>) => operationContext({ answered });
const searchedNames = (requests: string[]) =>
  requests
    .filter((line) => line.startsWith('GET /api/v1/apps?'))
    .map((line) => new URLSearchParams(line.slice(line.indexOf('?') + 1)).get('q'));

describe('lifecycle (core): creates Konnect never learnt of, crashes, concurrent operations', () => {
  it('recovers a create whose client id was never learnt: found by its nonce in the app label, exact match only', async () => {
    const journal = createJsonStore(createMemoryDriver());
    const crashed = adapterFor(journal);
    const created = await crashed.createClient(parseRegistration(konnectApplication({ client_name: 'Lost answer' })), {
      ...operation(new Promise(() => {})),
      deadline: AbortSignal.timeout(0),
    });
    const entries = await journal.list<JournalEntry>(JOURNAL_PREFIX);
    expect(entries).toHaveLength(1);
    const [key, entry] = entries[0] as [string, JournalEntry];
    // Okta can be searched by nonce, so core journals the id only with the answering mark, which a create
    // past its deadline never writes: the entry is what a process that died mid-create leaves.
    expect(entry.clientId).toBeUndefined();
    expect(key).toBe(`${JOURNAL_PREFIX}${entry.nonce}`);
    const decoy = org.okta.createClientNamed(`${org.okta.client(created.clientId)?.settings.client_name} (copy)`);
    const start = org.okta.requests.length;
    const next = adapterFor(journal);
    expect(await next.recover?.({ inFlightMs: 0 })).toEqual({ open: 1, undone: 1, neverCreated: 0, unresolved: 0, kept: 0, rotations: 0 });
    expect(searchedNames(org.okta.requests.slice(start))).toEqual([`Lost answer-${entry.nonce}`]);
    expect(org.okta.client(created.clientId)).toBeUndefined();
    expect(org.okta.client(decoy)).toBeDefined();
  });

  it('counts a create that never reached Okta as never created, leaving clients with similar names alone', async () => {
    const journal = createJsonStore(createMemoryDriver());
    await journal.set(`${JOURNAL_PREFIX}abcd1234`, { nonce: 'abcd1234', clientName: 'Never made', startedAt: new Date().toISOString() });
    const decoys = [org.okta.createClientNamed('Never made-abcd1234 (copy)'), org.okta.createClientNamed('never made-abcd1234')];
    const start = org.okta.requests.length;
    expect(await adapterFor(journal).recover?.({ inFlightMs: 0 })).toEqual({
      open: 1,
      undone: 0,
      neverCreated: 1,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    expect(searchedNames(org.okta.requests.slice(start))).toEqual(['Never made-abcd1234']);
    for (const decoy of decoys) expect(org.okta.client(decoy)).toBeDefined();
  });

  it('finds the app on a later page of the search, past apps whose labels only start with its own', async () => {
    const journal = createJsonStore(createMemoryDriver());
    await journal.set(`${JOURNAL_PREFIX}pg7x2k9q`, { nonce: 'pg7x2k9q', clientName: 'Paged', startedAt: new Date().toISOString() });
    for (let i = 0; i < 200; i++) org.okta.createClientNamed(`Paged-pg7x2k9q (${i})`);
    // Made as a create of the bridge makes it (marker in the profile), after the look-alikes.
    const made = await fetch(`${org.okta.url}/api/v1/apps`, {
      method: 'POST',
      headers: { authorization: `SSWS ${org.okta.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'oidc_client',
        label: 'Paged-pg7x2k9q',
        signOnMode: 'OPENID_CONNECT',
        credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic' } },
        settings: {
          oauthClient: { grant_types: ['client_credentials'], response_types: ['token'], application_type: 'service', redirect_uris: [] },
        },
        profile: { dcrBridge: { managed: true } },
      }),
    });
    const { id } = (await made.json()) as { id: string };
    const start = org.okta.requests.length;
    expect(await adapterFor(journal).recover?.({ inFlightMs: 0 })).toEqual({
      open: 1,
      undone: 1,
      neverCreated: 0,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    expect(searchedNames(org.okta.requests.slice(start))).toEqual(['Paged-pg7x2k9q', 'Paged-pg7x2k9q']);
    expect(org.okta.client(id)).toBeUndefined();
  });
});

/** The Okta calls `work` made (and the background work it left, such as retiring the old secret), admin token requests aside, ids as `{id}` and `{secretId}`. */
const calls = async (work: () => Promise<unknown>, settled: DcrAdapter = adapter) => {
  const start = org.okta.requests.length;
  await work();
  await settled.drained?.();
  return org.okta.requests
    .slice(start)
    .filter((line) => !line.startsWith('POST /oauth2/v1/token'))
    .map((line) => line.replace(/0oa\w+/, '{id}').replace(/ocs\w+/, '{secretId}'));
};
describe('two-phase rotation (the client secrets of the app)', () => {
  /** Konnect's answer, settled by the test. */
  const konnectAnswer = () => {
    let settle!: (answered: boolean) => void;
    const answered = new Promise<boolean>((resolve) => (settle = resolve));
    return { answered, settle };
  };
  const statuses = (clientId: string) => org.okta.client(clientId)?.secrets.map((secret) => secret.status);
  const created = async () =>
    (await bridge.call('POST', '/', { body: konnectApplication() })).body as { client_id: string; client_secret: string };
  /** A second secret added at Okta directly (as in the Admin Console), and its value. */
  const addedAtOkta = async (clientId: string) => {
    const res = await fetch(`${org.okta.url}/api/v1/apps/${clientId}/credentials/secrets`, {
      method: 'POST',
      headers: { authorization: `SSWS ${org.okta.apiToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; client_secret: string };
  };

  it("keeps Konnect's secret working beside the new one until Konnect took the answer, then deactivates and deletes it", async () => {
    const { client_id: clientId, client_secret: old } = await created();
    const answer = konnectAnswer();
    const rotated = await adapter.rotateSecret?.(clientId, operation(answer.answered));
    const fresh = rotated?.clientSecret as string;
    // Konnect does not have the new secret yet: both are ACTIVE and both get tokens.
    expect(statuses(clientId)).toEqual(['ACTIVE', 'ACTIVE']);
    expect(org.okta.client(clientId)?.secret).toBe(fresh);
    expect(await org.okta.clientCredentials(clientId, old)).toBe(true);
    expect(await org.okta.clientCredentials(clientId, fresh)).toBe(true);
    answer.settle(true);
    await adapter.drained?.();
    expect(statuses(clientId)).toEqual(['ACTIVE']);
    expect(await org.okta.clientCredentials(clientId, old)).toBe(false);
    expect(await org.okta.clientCredentials(clientId, fresh)).toBe(true);
  });

  it("a rotation Konnect did not get: the new secret is retired and Konnect's keeps working", async () => {
    const { client_id: clientId, client_secret: old } = await created();
    const lost = await adapter.rotateSecret?.(clientId, operation(Promise.resolve(false)));
    await adapter.drained?.();
    expect(statuses(clientId)).toEqual(['ACTIVE']);
    expect(await org.okta.clientCredentials(clientId, lost?.clientSecret as string)).toBe(false);
    expect(await org.okta.clientCredentials(clientId, old)).toBe(true);
  });

  it('an INACTIVE secret (a retire cut short between deactivate and delete) is not a working one: the next rotation deletes it to make room', async () => {
    const { client_id: clientId, client_secret: old } = await created();
    const stranded = await addedAtOkta(clientId);
    org.okta.setSecretStatus(clientId, stranded.id, 'INACTIVE');
    expect(await org.okta.clientCredentials(clientId, stranded.client_secret)).toBe(false);
    let rotated = '';
    // Okta counts INACTIVE secrets among its two: the add is refused, the INACTIVE one deleted, the add made again.
    expect(await calls(async () => (rotated = (await bridge.call('POST', `/${clientId}/new-secret`)).body.client_secret))).toEqual([
      'GET /api/v1/apps/{id}/credentials/secrets',
      'POST /api/v1/apps/{id}/credentials/secrets',
      'GET /api/v1/apps/{id}/credentials/secrets',
      'DELETE /api/v1/apps/{id}/credentials/secrets/{secretId}',
      'POST /api/v1/apps/{id}/credentials/secrets',
      'POST /api/v1/apps/{id}/credentials/secrets/{secretId}/lifecycle/deactivate',
      'DELETE /api/v1/apps/{id}/credentials/secrets/{secretId}',
    ]);
    expect(statuses(clientId)).toEqual(['ACTIVE']);
    expect(await org.okta.clientCredentials(clientId, rotated)).toBe(true);
    expect(await org.okta.clientCredentials(clientId, old)).toBe(false);
  });

  for (const refuse of [false, true]) {
    it(`retires a secret found INACTIVE already (its deactivation ${refuse ? 'refused' : 'answered 200'}): deleted, and the new one alone works`, async () => {
      org.okta.refuseRedeactivation(refuse);
      try {
        const { client_id: clientId, client_secret: old } = await created();
        const answer = konnectAnswer();
        const rotated = await adapter.rotateSecret?.(clientId, operation(answer.answered));
        const oldId = org.okta.client(clientId)?.secrets[0]?.id as string;
        // The old secret deactivated meanwhile, as a retire cut short after its first call leaves it.
        org.okta.setSecretStatus(clientId, oldId, 'INACTIVE');
        answer.settle(true);
        await adapter.drained?.();
        expect(org.okta.client(clientId)?.secrets.map((secret) => secret.id)).not.toContain(oldId);
        expect(statuses(clientId)).toEqual(['ACTIVE']);
        expect(await org.okta.clientCredentials(clientId, rotated?.clientSecret as string)).toBe(true);
        expect(await org.okta.clientCredentials(clientId, old)).toBe(false);
      } finally {
        org.okta.refuseRedeactivation(false);
      }
    });
  }

  it('retiring a secret that is already gone (or whose app is) is done', async () => {
    const { client_id: clientId, client_secret: old } = await created();
    const answer = konnectAnswer();
    const rotated = await adapter.rotateSecret?.(clientId, operation(answer.answered));
    const oldId = org.okta.client(clientId)?.secrets[0]?.id as string;
    org.okta.setSecretStatus(clientId, oldId, 'INACTIVE');
    const gone = await fetch(`${org.okta.url}/api/v1/apps/${clientId}/credentials/secrets/${oldId}`, {
      method: 'DELETE',
      headers: { authorization: `SSWS ${org.okta.apiToken}` },
    });
    expect(gone.status).toBe(204);
    const start = org.okta.requests.length;
    answer.settle(true);
    await adapter.drained?.();
    // One deactivation answered 404, and nothing retried.
    expect(org.okta.requests.slice(start).filter((line) => line.includes('/credentials/secrets/'))).toEqual([
      expect.stringMatching(/^POST .*\/lifecycle\/deactivate$/),
    ]);
    expect(await org.okta.clientCredentials(clientId, rotated?.clientSecret as string)).toBe(true);
    expect(await org.okta.clientCredentials(clientId, old)).toBe(false);
  });

  it('a rotation when the app already has two ACTIVE secrets: the one Konnect does not hold goes first, then the old one', async () => {
    const { client_id: clientId, client_secret: old } = await created();
    const extra = await addedAtOkta(clientId);
    const rotated = (await bridge.call('POST', `/${clientId}/new-secret`)).body.client_secret as string;
    await adapter.drained?.();
    expect(statuses(clientId)).toEqual(['ACTIVE']);
    for (const retired of [old, extra.client_secret]) expect(await org.okta.clientCredentials(clientId, retired)).toBe(false);
    expect(await org.okta.clientCredentials(clientId, rotated)).toBe(true);
  });

  it('with an overlap the old secret keeps working until it ends, then only the new one does', async () => {
    const overlapping = createOktaAdapter({
      domain: org.okta.url,
      auth: { apiToken: org.okta.apiToken },
      // Long enough that a loaded machine still checks both secrets within it.
      rotationOverlapMs: 3_000,
    });
    const local = await startBridge(overlapping);
    try {
      const first = (await local.call('POST', '/', { body: konnectApplication() })).body as { client_id: string; client_secret: string };
      const rotated = (await local.call('POST', `/${first.client_id}/new-secret`)).body.client_secret as string;
      // Okta taking its time over the old secret's DELETE (as a loaded machine does): the window between its two calls.
      org.okta.faults.faultNext('DELETE', /\/credentials\/secrets\/[^/]+$/, 'held_then_processed', { delayMs: 500 });
      expect(await org.okta.clientCredentials(first.client_id, first.client_secret)).toBe(true);
      expect(await org.okta.clientCredentials(first.client_id, rotated)).toBe(true);
      await vi.waitFor(async () => expect(await org.okta.clientCredentials(first.client_id, first.client_secret)).toBe(false), {
        timeout: 10_000,
        interval: 100,
      });
      // Retiring the old secret is two Okta calls (deactivate, then delete): refused after the first, it is gone after the second.
      await expect.poll(() => statuses(first.client_id), { timeout: 10_000, interval: 50 }).toEqual(['ACTIVE']);
      expect(await org.okta.clientCredentials(first.client_id, rotated)).toBe(true);
    } finally {
      await local.close();
    }
  });
});

describe('update_application', () => {
  it('sends the app back whole with the new redirect URIs only: marker, settings and a secret rotated before it stay', async () => {
    const created = await bridge.call('POST', '/', {
      body: konnectApplication({
        grant_types: ['authorization_code', 'client_credentials'],
        redirect_uris: ['https://app.example.com/cb'],
      }),
    });
    const clientId = created.body.client_id as string;
    const before = org.okta.client(clientId);
    const rotated = (await bridge.call('POST', `/${clientId}/new-secret`)).body.client_secret as string;
    const res = await bridge.call('POST', `/${clientId}/event-hook`, {
      body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/new'] }),
    });
    expect(res.status).toBeLessThan(300);
    const after = org.okta.client(clientId);
    expect(after?.settings).toEqual({ ...before?.settings, redirect_uris: ['https://app.example.com/new'] });
    expect(after?.profile).toEqual(before?.profile);
    expect(after?.app).toMatchObject({ label: before?.app.label, credentials: before?.app.credentials });
    expect(await org.okta.clientCredentials(clientId, rotated)).toBe(true);
    expect(await org.okta.clientCredentials(clientId, created.body.client_secret)).toBe(false);
  });
});

// Okta's two documented answers to the DELETE of a client that is gone: 404 E0000007 (the OAuth 2.0 API document
// 2026.06.3) and 401 invalid_client (its former Client Application reference). Both are "already gone".
describe.each([
  { answer: 404 as const, deletes: 1, tokens: 0, why: 'one DELETE' },
  // core's HTTP client takes any 401 for a stale admin token and tries once more with a fresh one (OAuth mode).
  { answer: 401 as const, deletes: 2, tokens: 1, why: 'a fresh admin token and a second DELETE' },
])('a client deleted behind the bridge, Okta answering its DELETE $answer', ({ answer, deletes, tokens, why }) => {
  let gone: Awaited<ReturnType<typeof startOrg>>;
  let local: BridgeHarness;
  let localAdapter: DcrAdapter;
  beforeAll(async () => {
    gone = await startOrg({ unknownClientOnDelete: answer });
    localAdapter = createOktaAdapter({ domain: gone.okta.url, auth: { clientId: gone.okta.serviceApp.clientId, privateKey: gone.pem } });
    local = await startBridge(localAdapter);
  });
  afterAll(async () => {
    await local.close();
    await gone.okta.close();
    gone.okta.api.expectNoProblems();
  });
  const localCalls = async (work: () => Promise<unknown>) => {
    const start = gone.okta.requests.length;
    await work();
    await localAdapter.drained?.();
    return gone.okta.requests
      .slice(start)
      .filter((line) => !line.startsWith('POST /oauth2/v1/token'))
      .map((line) => line.replace(/0oa\w+/, '{id}'));
  };
  const deleteBehind = async () => {
    const clientId = (await local.call('POST', '/', { body: konnectApplication() })).body.client_id as string;
    const deleted = await fetch(`${gone.okta.url}/oauth2/v1/clients/${clientId}`, {
      method: 'DELETE',
      headers: { authorization: `SSWS ${gone.okta.apiToken}` },
    });
    expect(deleted.status).toBe(204);
    return clientId;
  };

  it('a remembered client: new-secret and update answer 404', async () => {
    const rotated = await deleteBehind();
    let status = 0;
    expect(await localCalls(async () => (status = (await local.call('POST', `/${rotated}/new-secret`)).status))).toEqual([
      'GET /api/v1/apps/{id}/credentials/secrets',
    ]);
    expect(status).toBe(404);
    const updated = await deleteBehind();
    const event = konnectEvent(updated, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb'] });
    expect(await localCalls(async () => (status = (await local.call('POST', `/${updated}/event-hook`, { body: event })).status))).toEqual([
      'GET /api/v1/apps/{id}',
    ]);
    expect(status).toBe(404);
  });

  it(`a remembered client: delete answers 204 after ${why}`, async () => {
    const deleted = await deleteBehind();
    const tokensBefore = gone.okta.tokenRequests();
    let status = 0;
    expect(await localCalls(async () => (status = (await local.call('DELETE', `/${deleted}`)).status))).toEqual(
      Array.from({ length: deletes }, () => 'DELETE /oauth2/v1/clients/{id}'),
    );
    expect(gone.okta.tokenRequests() - tokensBefore).toBe(tokens);
    expect(status).toBe(204);
  });
});

describe("Okta's pinned API descriptions (test/vendor)", () => {
  const create = () => oktaApp(parseRegistration(konnectApplication({ grant_types: ['authorization_code'] })), 'k3j9x2ab');

  it('describe the create the adapter sends, and find a misspelt field, a wrong type, a missing one, an old path', () => {
    const api = createOktaApiDescription();
    expect(api.checkRequest('POST', '/api/v1/apps', create())).toEqual([]);
    const { redirect_uris: uris, ...oauthClient } = create().settings.oauthClient;
    expect(
      api.checkRequest('POST', '/api/v1/apps', { ...create(), settings: { oauthClient: { ...oauthClient, redirect_uri: uris } } }),
    ).toEqual(['POST /api/v1/apps: request body: /settings/oauthClient/redirect_uri is not described']);
    expect(
      api.checkRequest('POST', '/api/v1/apps', {
        ...create(),
        settings: { oauthClient: { ...create().settings.oauthClient, grant_types: 'authorization_code' } },
      }),
    ).toEqual([expect.stringMatching(/^POST \/api\/v1\/apps: request body: \/settings\/oauthClient\/grant_types must be array/)]);
    const { label: _label, ...unlabelled } = create();
    expect(api.checkRequest('POST', '/api/v1/apps', unlabelled)).toEqual([expect.stringMatching(/must have required property 'label'/)]);
    // The client API's one-call rotation, which the adapter no longer calls, is not in the pinned cut.
    expect(api.checkRequest('POST', '/oauth2/v1/clients/0oa1/lifecycle/newSecret', undefined)).toEqual([
      `POST /oauth2/v1/clients/0oa1/lifecycle/newSecret: no such path in Okta OpenID Connect & OAuth 2.0 API 2026.06.3`,
    ]);
    expect(() => api.expectNoProblems()).toThrow(/Traffic that Okta's APIs 2026.06.3 do not describe/);
  });

  it('need each exception README.md there lists, and allow no more than it', () => {
    const app = {
      ...create(),
      accessibility: { selfService: false, errorRedirectUrl: null, loginRedirectUrl: null },
      settings: {
        app: {},
        notifications: { vpn: { network: { connection: 'DISABLED' }, message: null, helpUrl: null } },
        notes: { admin: null, enduser: null },
        oauthClient: create().settings.oauthClient,
      },
    };
    const form = { grant_type: 'client_credentials', scope: 'okta.apps.read', client_assertion_type: 'x', client_assertion: 'y' };
    const refused = {
      errorCode: 'E0000011',
      errorSummary: 'Invalid token provided',
      errorLink: 'E0000011',
      errorId: 'oae1',
      errorCauses: [],
    };
    const traffic = (api: ReturnType<typeof createOktaApiDescription>) => [
      api.checkRequest('PUT', '/api/v1/apps/0oa1', app),
      api.checkRequest('POST', '/oauth2/v1/token', form),
      api.checkResponse('DELETE', '/oauth2/v1/clients/0oa1', 401, { error: 'invalid_client', error_description: 'gone' }),
      api.checkResponse('POST', '/api/v1/apps', 401, refused),
    ];
    expect(traffic(createOktaApiDescription({ exceptions: false })).map((problems) => problems.length > 0)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(traffic(createOktaApiDescription())).toEqual([[], [], [], []]);
    // No further: settings.app holds nothing, the 401 of a DELETE is one of the two bodies, nulls only where listed.
    const api = createOktaApiDescription();
    expect(api.checkRequest('PUT', '/api/v1/apps/0oa1', { ...app, settings: { ...app.settings, app: { any: 1 } } })).toEqual([
      'PUT /api/v1/apps/0oa1: request body: /settings/app must NOT have additional properties',
    ]);
    expect(api.checkResponse('DELETE', '/oauth2/v1/clients/0oa1', 401, { error: 'invalid_grant' }).length).toBeGreaterThan(0);
    expect(api.checkRequest('PUT', '/api/v1/apps/0oa1', { ...app, label: null }).length).toBeGreaterThan(0);
  });

  it('fail a run whose traffic the fake saw undescribed: a misspelt field sent to the fake', async () => {
    const other = await startOrg();
    try {
      const { redirect_uris: uris, ...oauthClient } = create().settings.oauthClient;
      const sent = await fetch(`${other.okta.url}/api/v1/apps`, {
        method: 'POST',
        headers: { authorization: `SSWS ${other.okta.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          ...create(),
          settings: { oauthClient: { ...oauthClient, redirect_uris: uris, consentMethod: 'REQUIRED' } },
        }),
      });
      expect(sent.status).toBe(200);
      // The fake keeps what it was given, so its answer shows the field too.
      expect(other.okta.api.problems).toEqual([
        'POST /api/v1/apps: request body: /settings/oauthClient/consentMethod is not described',
        'POST /api/v1/apps: answer 200: /settings/oauthClient/consentMethod is not described',
      ]);
      expect(() => other.okta.api.expectNoProblems()).toThrow(/consentMethod is not described/);
    } finally {
      await other.okta.close();
    }
  });
});

describe('settings', () => {
  it("takes Kong's example bridge settings as they are (OKTA_DOMAIN with scheme and slash, OKTA_API_TOKEN)", () => {
    const options = readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: 'https://dev-something.okta.com/', OKTA_API_TOKEN: 'atoken' });
    expect(options).toEqual({
      domain: 'https://dev-something.okta.com/',
      auth: { apiToken: 'atoken' },
      timeoutMs: 30_000,
      authorizationServerId: 'default',
    });
  });

  it('reads the authorization server of the clients, refusing what cannot be an id', () => {
    const base = { OKTA_DOMAIN: 'dev-1.okta.com', OKTA_API_TOKEN: 't' };
    expect(
      readAdapterOptions(dcrBridgeAdapter, { ...base, OKTA_AUTHORIZATION_SERVER_ID: 'aus1a2b3c4d5e6f7g8h9' }).authorizationServerId,
    ).toBe('aus1a2b3c4d5e6f7g8h9');
    expect(() => readAdapterOptions(dcrBridgeAdapter, { ...base, OKTA_AUTHORIZATION_SERVER_ID: '../v1' })).toThrow(
      /OKTA_AUTHORIZATION_SERVER_ID must be an authorization server id/,
    );
  });

  it('reads OAuth 2.0 for Okta settings and checks the key at boot', () => {
    const options = readAdapterOptions(dcrBridgeAdapter, {
      OKTA_DOMAIN: 'dev-1.okta.com',
      OKTA_CLIENT_ID: '0oa1',
      OKTA_PRIVATE_KEY: org.jwk,
      OKTA_SCOPES: 'okta.clients.manage,okta.apps.read',
    });
    expect(options.auth).toMatchObject({ clientId: '0oa1', scopes: ['okta.clients.manage', 'okta.apps.read'] });
    expect(() =>
      readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: 'dev-1.okta.com', OKTA_CLIENT_ID: '0oa1', OKTA_PRIVATE_KEY: 'not a key' }),
    ).toThrow(/OKTA_PRIVATE_KEY must be a PKCS#8 PEM private key or a private JWK/);
  });

  it('takes an https org or a bare domain, and plain http only with OKTA_ALLOW_INSECURE_HTTP=true, never repeating the value', () => {
    for (const domain of ['dev-1.okta.com', 'https://dev-1.okta.com/', 'HTTPS://dev-1.okta.com'])
      expect(readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: domain, OKTA_API_TOKEN: 't' }).domain).toBe(domain);
    expect(() => readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: 'http://127.0.0.1:8080', OKTA_API_TOKEN: 't' })).toThrow(
      'OKTA_DOMAIN must be an https URL or a bare domain (over http, the API token travels in clear; for a test org on this machine, set OKTA_ALLOW_INSECURE_HTTP=true).',
    );
    expect(() => readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: 'HTTP://127.0.0.1:8080', OKTA_API_TOKEN: 't' })).toThrow(
      /OKTA_ALLOW_INSECURE_HTTP=true/,
    );
    expect(
      readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: 'http://127.0.0.1:8080', OKTA_API_TOKEN: 't', OKTA_ALLOW_INSECURE_HTTP: 'true' })
        .domain,
    ).toBe('http://127.0.0.1:8080');
    for (const domain of ['ftp://dev-1.okta.com', 'https://admin:hunter2@dev-1.okta.com', 'https://exa mple.com']) {
      let message = '';
      try {
        readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: domain, OKTA_API_TOKEN: 't' });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('OKTA_DOMAIN must be your Okta org');
      expect(message).not.toContain('hunter2');
    }
  });

  it('lists every problem at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, {})).toThrow(
      'Invalid okta settings:\n- OKTA_DOMAIN is required.\n- Set OKTA_API_TOKEN (an API token), or OKTA_CLIENT_ID + OKTA_PRIVATE_KEY (OAuth 2.0 for Okta).',
    );
    expect(() => readAdapterOptions(dcrBridgeAdapter, { OKTA_DOMAIN: 'x.okta.com', OKTA_API_TOKEN: 't', OKTA_CLIENT_ID: 'c' })).toThrow(
      /not both/,
    );
  });
});
