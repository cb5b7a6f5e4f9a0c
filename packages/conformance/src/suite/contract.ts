import { describe, expect } from 'vitest';
import { OAUTH_GRANT_TYPES } from '@dcr-bridge/core';
import { konnectEvent, konnectVerifyApplication } from '../payloads.js';
import { required } from './scenarios.js';
import { clientPath, type ErrorAnswerSeen, type SuiteRun } from './run.js';

/** What the bridge answers Konnect for clients it cannot or must not touch, for Konnect's real payloads and for refused requests. */
export function contractGroup(run: SuiteRun): void {
  const { scenario } = run;
  const capabilities = () => run.target.adapter.capabilities;
  const adapterId = () => run.target.adapter.id;
  const refused = () => (run.target.foreignClients ?? 'refused') === 'refused';

  describe('contract', () => {
    scenario('contract/unknown-delete', async () => {
      const res = await run.call('DELETE', clientPath(run.unknownClientId()));
      expect(res.status, JSON.stringify(res.body)).toBe(204);
    });

    scenario('contract/unknown-rotate', async (ctx) => {
      if (!capabilities().rotateSecret) return ctx.skip(`${adapterId()} does not announce rotateSecret`);
      const res = await run.call('POST', clientPath(run.unknownClientId(), '/new-secret'));
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.error).toBe('not_found');
    });

    scenario('contract/unknown-update', async (ctx) => {
      if (!capabilities().updateRedirectUris) return ctx.skip(`${adapterId()} does not announce updateRedirectUris`);
      const id = run.unknownClientId();
      const res = await run.call('POST', clientPath(id, '/event-hook'), {
        body: konnectEvent(id, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb'] }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.error).toBe('not_found');
    });

    scenario('contract/foreign-delete', async () => {
      const foreignId = await run.target.backdoor.createForeignClient();
      const res = await run.call('DELETE', clientPath(foreignId));
      if (refused()) {
        expect(res.status, JSON.stringify(res.body)).toBe(403);
        expect(res.body.error).toBe('client_not_managed');
      } else {
        expect(res.status, JSON.stringify(res.body)).toBe(204);
      }
      expect(await run.target.backdoor.clientExists(foreignId)).toBe(true);
    });

    scenario('contract/foreign-rotate', async (ctx) => {
      if (!capabilities().rotateSecret) return ctx.skip(`${adapterId()} does not announce rotateSecret`);
      const foreignId = await run.target.backdoor.createForeignClient();
      const res = await run.call('POST', clientPath(foreignId, '/new-secret'));
      expect(res.status, JSON.stringify(res.body)).toBe(refused() ? 403 : 404);
      expect(res.body.error).toBe(refused() ? 'client_not_managed' : 'not_found');
      expect(await run.target.backdoor.clientExists(foreignId)).toBe(true);
    });

    scenario('contract/foreign-update', async (ctx) => {
      if (!capabilities().updateRedirectUris) return ctx.skip(`${adapterId()} does not announce updateRedirectUris`);
      const foreignId = await run.target.backdoor.createForeignClient();
      const before = await run.target.backdoor.redirectUris(foreignId);
      const res = await run.call('POST', clientPath(foreignId, '/event-hook'), {
        body: konnectEvent(foreignId, { event_type: 'update_application', redirect_uris: ['https://attacker.example.com/cb'] }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(refused() ? 403 : 404);
      expect(res.body.error).toBe(refused() ? 'client_not_managed' : 'not_found');
      expect(await run.target.backdoor.redirectUris(foreignId)).toEqual(before);
    });

    scenario('contract/verify-button', async () => {
      const res = await run.call('POST', '/', { body: konnectVerifyApplication(run.target.application) });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(await run.target.backdoor.canGetToken(res.body.client_id, res.body.client_secret)).toBe(true);
      expect((await run.call('DELETE', clientPath(res.body.client_id))).status).toBe(204);
    });

    scenario('contract/same-name', async (ctx) => {
      const name = `Same name ${Date.now().toString(36)}`;
      const first = await run.createClient(ctx, { client_name: name });
      const second = await run.createClient(ctx, { client_name: name });
      expect(second.clientId).not.toBe(first.clientId);
      for (const created of [first, second]) expect(await run.target.backdoor.canGetToken(created.clientId, created.secret)).toBe(true);
    });

    scenario('contract/unknown-fields', async (ctx) => {
      const { clientId, secret } = await run.createClient(ctx, { some_future_field: { nested: true }, allow_multiple_credentials: false });
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(true);
    });

    scenario('contract/wrong-api-key', async () => {
      const before = await run.target.backdoor.countClients();
      const res = await run.call('POST', '/', { body: run.application(), apiKey: 'wrong_key_wrong_key' });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
      expect(await run.target.backdoor.countClients()).toBe(before);
    });

    scenario('contract/invalid-redirect-uri', async () => {
      const before = await run.target.backdoor.countClients();
      const res = await run.call('POST', '/', { body: run.application({ redirect_uris: ['not a uri'] }) });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_redirect_uri');
      expect(await run.target.backdoor.countClients()).toBe(before);
    });

    scenario('contract/unknown-scope', async (ctx) => {
      if (run.target.adapter.registration?.scopes.kind === 'any')
        return ctx.skip(`${adapterId()} declares that its IdP takes any scope name (scopes.kind "any")`);
      const unknownScope = required(run.target.unknownScope, 'unknownScope', 'contract/unknown-scope');
      const before = await run.target.backdoor.countClients();
      const scopes = [...((run.target.application?.scopes as string[] | undefined) ?? []), unknownScope];
      const res = await run.call('POST', '/', { body: run.application({ scopes }) });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error_description).toContain(unknownScope);
      await run.target.adapter.drained?.();
      expect(await run.target.backdoor.countClients()).toBe(before);
    });

    scenario('contract/unsupported-auth-method', async (ctx) => {
      const declared = run.target.adapter.registration?.authMethods;
      if (declared === undefined || declared === 'checked-by-idp')
        return ctx.skip(`${adapterId()} declares no auth methods of its own (the IdP decides)`);
      const method = AUTH_METHODS.find((candidate) => !declared.includes(candidate));
      if (method === undefined) return ctx.skip(`${adapterId()} declares every auth method Konnect sends`);
      await refusedBeforeAnyIdpCall(run, { token_endpoint_auth_method: method }, `"${method}"`);
    });

    scenario('contract/unsupported-grant-type', async (ctx) => {
      const declared = run.target.adapter.registration?.grantTypes;
      if (declared === undefined || declared === 'checked-by-idp')
        return ctx.skip(`${adapterId()} declares no grant types of its own (the IdP decides)`);
      const grant = OAUTH_GRANT_TYPES.find((candidate) => !declared.includes(candidate));
      if (grant === undefined) return ctx.skip(`${adapterId()} declares every grant type Konnect sends`);
      await refusedBeforeAnyIdpCall(run, { grant_types: [grant] }, grant);
    });
  });
}

/** Auth methods Konnect may send, the ones an IdP most often lacks last. */
const AUTH_METHODS = ['client_secret_post', 'client_secret_basic', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth'];

/** A create with these fields answers 400 invalid_client_metadata naming `named`, reaches no IdP admin endpoint and creates nothing. */
async function refusedBeforeAnyIdpCall(run: SuiteRun, fields: Record<string, unknown>, named: string): Promise<void> {
  await run.target.adapter.drained?.();
  const before = await run.target.backdoor.countClients();
  const requestsBefore = run.target.idp?.adminRequests?.().length;
  const res = await run.call('POST', '/', { body: run.application(fields) });
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error).toBe('invalid_client_metadata');
  expect(res.body.error_description).toContain(named);
  if (requestsBefore !== undefined) expect(run.target.idp?.adminRequests?.().slice(requestsBefore)).toEqual([]);
  await run.target.adapter.drained?.();
  expect(await run.target.backdoor.countClients()).toBe(before);
}

/** A URL of any scheme (`http://`, `https://`, `ldap://`, …). */
const URL_PATTERN = /[a-z][a-z0-9+.-]*:\/\//i;
/** A host and a port (`idp.internal:8443`, `10.1.2.3:8080`). */
const HOST_PORT_PATTERN = /\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*:\d{2,5}\b/i;
/** The words the fake kit's injected 500s carry: the IdP's own error text. */
const IDP_FAULT_TEXT = 'injected fault';

/**
 * What every error answer of the run said to Konnect: never the IdP's URL, host or port, its own error
 * text, or a hidden value. Declared after every other group, so that it reads every error answer the
 * suite's bridges gave (run alone, it reads its own).
 */
export function errorAnswersGroup(run: SuiteRun): void {
  const id = 'contract/no-idp-detail';
  describe('contract: every error answer', () => {
    run.scenario(
      id,
      async () => {
        const { target } = run;
        const faults = required(target.faults, 'faults', id);
        const start = run.errorAnswers.length;
        // The IdP failing a create: its connection reset (as when it cannot be reached), then a 500 in its own words.
        for (const kind of ['reset_before', 'error_500'] as const) {
          faults.injectFaults({ rate: 1, kinds: [kind] });
          try {
            const res = await run.call('POST', '/', { body: run.application() });
            expect(res.status, `a create while every IdP request fails (${kind}): ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(500);
          } finally {
            faults.injectFaults(undefined);
          }
          await faults.settle();
          await target.adapter.drained?.();
        }
        // The IdP refusing the bridge's admin credentials, where the target can show it.
        const refused = target.idp?.refusedCredentials?.();
        const hidden = [...(target.hiddenValues ?? []), ...(refused ? [refused.secret] : [])];
        if (refused) {
          const bridge = await run.startBridge(refused.adapter, { logger: target.logger });
          try {
            const res = await bridge.call('POST', '/', { body: run.application() });
            expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(500);
          } finally {
            await bridge.close();
            await refused.adapter.close?.();
          }
        }
        expect(run.errorAnswers.length - start, 'the forced IdP failures gave no error answers').toBeGreaterThanOrEqual(2);

        const adminUrl = target.adapter.diagnostics?.adminUrl;
        const admin = adminUrl && URL.canParse(adminUrl) ? new URL(adminUrl) : undefined;
        const internals = [admin?.origin, admin?.host, admin?.hostname, IDP_FAULT_TEXT, ...hidden].filter(
          (value): value is string => typeof value === 'string' && value !== '',
        );
        const leaks: string[] = [];
        for (const answer of run.errorAnswers) {
          const said = (answer.body as { error_description?: unknown } | undefined)?.error_description;
          if (typeof said !== 'string') continue;
          const where = `${answer.method} ${answer.path} → ${answer.status}: ${JSON.stringify(said)}`;
          if (answer.requestId && !said.includes(answer.requestId)) leaks.push(`${where} lacks the request id ${answer.requestId}`);
          const text = withoutSentValues(said, answer);
          if (URL_PATTERN.test(text)) leaks.push(`${where} holds a URL`);
          if (HOST_PORT_PATTERN.test(text)) leaks.push(`${where} holds a host:port`);
          for (const value of internals)
            if (text.includes(value))
              leaks.push(`${where} holds ${value === IDP_FAULT_TEXT ? "the IdP's own error text" : 'an IdP-internal or hidden value'}`);
        }
        expect(leaks, `error answers to Konnect that carry IdP detail (it belongs in the log)`).toEqual([]);
      },
      { timeout: 60_000 },
    );
  });
}

/**
 * The description with every value Konnect sent (a redirect URI, a scope, a client id in the path) taken
 * out: a 4xx may name what the developer sent; the scan looks for what the bridge added.
 */
function withoutSentValues(description: string, answer: ErrorAnswerSeen): string {
  const sent = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string') sent.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect);
  };
  collect(typeof answer.requestBody === 'string' ? safeJson(answer.requestBody) : answer.requestBody);
  for (const segment of answer.path.split(/[/?&=]/)) {
    try {
      sent.add(decodeURIComponent(segment));
    } catch {
      sent.add(segment);
    }
  }
  let text = description;
  for (const value of [...sent].filter((value) => value.length >= 3).sort((a, b) => b.length - a.length))
    text = text.split(value).join('«sent»');
  return text;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
