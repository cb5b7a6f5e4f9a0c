import { describe, expect } from 'vitest';
import { konnectEvent, konnectVerifyApplication } from '../payloads.js';
import { required } from './scenarios.js';
import { clientPath, type SuiteRun } from './run.js';

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

    scenario('contract/unknown-scope', async () => {
      const unknownScope = required(run.target.unknownScope, 'unknownScope', 'contract/unknown-scope');
      const before = await run.target.backdoor.countClients();
      const scopes = [...((run.target.application?.scopes as string[] | undefined) ?? []), unknownScope];
      const res = await run.call('POST', '/', { body: run.application({ scopes }) });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error_description).toContain(unknownScope);
      await run.target.adapter.drained?.();
      expect(await run.target.backdoor.countClients()).toBe(before);
    });
  });
}
