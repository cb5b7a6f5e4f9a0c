import { describe, expect } from 'vitest';
import { konnectEvent } from '../payloads.js';
import { clientPath, sorted, type SuiteRun } from './run.js';
import { required } from './scenarios.js';

/** One client through its whole life, each step on a client of its own. */
export function lifecycleGroup(run: SuiteRun): void {
  const { scenario } = run;
  const capabilities = () => run.target.adapter.capabilities;
  const adapterId = () => run.target.adapter.id;

  describe('lifecycle', () => {
    scenario('lifecycle/create', async () => {
      const requested = run.application();
      const res = await run.call('POST', '/', { body: requested });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(typeof res.body.client_id).toBe('string');
      expect(typeof res.body.client_secret).toBe('string');
      expect(res.body.client_secret.length).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(res.body.client_id_issued_at))).toBe(false);
      if ('client_secret_expires_at' in res.body) expect(Number.isNaN(Date.parse(res.body.client_secret_expires_at))).toBe(false);
      const { client_id: clientId, client_secret: secret } = res.body as { client_id: string; client_secret: string };
      const { backdoor } = run.target;
      try {
        expect(await backdoor.clientExists(clientId)).toBe(true);
        expect(await backdoor.canGetToken(clientId, secret)).toBe(true);
        expect(await backdoor.canGetToken(clientId, `${secret}x`)).toBe(false);
        if ((run.target.adapter.registration?.redirectUris ?? 'kept') === 'kept')
          expect(sorted(await backdoor.redirectUris(clientId))).toEqual(sorted(requested.redirect_uris as string[]));
      } finally {
        await run.call('DELETE', clientPath(clientId));
      }
    });

    scenario('lifecycle/rotate', async (ctx) => {
      const { clientId, secret } = await run.createClient(ctx);
      const res = await run.call('POST', clientPath(clientId, '/new-secret'));
      if (!capabilities().rotateSecret) {
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error).toBe('unsupported_operation');
        return ctx.skip(`${adapterId()} does not announce rotateSecret (answered 400 unsupported_operation)`);
      }
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body.client_id).toBe(clientId);
      expect(res.body.client_secret).not.toBe(secret);
      // The old secret is retired once Konnect's connection took the answer (two-secrets IdPs): just after it.
      await run.target.adapter.drained?.();
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(false);
      expect(await run.target.backdoor.canGetToken(clientId, res.body.client_secret)).toBe(true);
    });

    scenario('lifecycle/rotate-twice', async (ctx) => {
      if (!capabilities().rotateSecret) return ctx.skip(`${adapterId()} does not announce rotateSecret`);
      const { clientId, secret: first } = await run.createClient(ctx);
      const once = await run.call('POST', clientPath(clientId, '/new-secret'));
      expect(once.status, JSON.stringify(once.body)).toBe(200);
      const twice = await run.call('POST', clientPath(clientId, '/new-secret'));
      expect(twice.status, JSON.stringify(twice.body)).toBe(200);
      await run.target.adapter.drained?.();
      expect(await run.target.backdoor.canGetToken(clientId, first)).toBe(false);
      expect(await run.target.backdoor.canGetToken(clientId, once.body.client_secret)).toBe(false);
      expect(await run.target.backdoor.canGetToken(clientId, twice.body.client_secret)).toBe(true);
    });

    scenario('lifecycle/update-redirect-uris', async (ctx) => {
      const { clientId, secret } = await run.createClient(ctx);
      const redirectUris = run.target.updatedRedirectUris ?? ['https://app.example.com/new-callback', 'https://other.example.com/cb'];
      const res = await run.call('POST', clientPath(clientId, '/event-hook'), {
        body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: redirectUris }),
      });
      if (!capabilities().updateRedirectUris) {
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error).toBe('unsupported_operation');
        return ctx.skip(`${adapterId()} does not announce updateRedirectUris (answered 400 unsupported_operation)`);
      }
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(sorted(await run.target.backdoor.redirectUris(clientId))).toEqual(sorted(redirectUris));
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(true);
    });

    scenario('lifecycle/audience-registrations', async (ctx) => {
      const { clientId, secret } = await run.createClient(ctx);
      const audience = `https://api.example.com/product-${Date.now().toString(36)}`;
      const add = await run.call('POST', clientPath(clientId, '/event-hook'), {
        body: konnectEvent(clientId, { event_type: 'add_registration', audience }),
      });
      expect(add.status, JSON.stringify(add.body)).toBe(200);
      const audiences = run.target.backdoor.audiences;
      if (!capabilities().audienceRegistrations || !audiences) {
        expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(true);
        return ctx.skip(
          `${adapterId()} does not announce audienceRegistrations, or the backdoor cannot read audiences (event acknowledged, nothing changed)`,
        );
      }
      expect(await audiences(clientId)).toContain(audience);
      const remove = await run.call('POST', clientPath(clientId, '/event-hook'), {
        body: konnectEvent(clientId, { event_type: 'remove_registration', audience }),
      });
      expect(remove.status, JSON.stringify(remove.body)).toBe(200);
      expect(await audiences(clientId)).not.toContain(audience);
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(true);
    });

    scenario('lifecycle/registration-without-audience', async (ctx) => {
      const { clientId, secret } = await run.createClient(ctx);
      const res = await run.call('POST', clientPath(clientId, '/event-hook'), {
        body: konnectEvent(clientId, { event_type: 'add_registration' }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(true);
    });

    scenario('lifecycle/keeps-changes-made-at-the-idp', async (ctx) => {
      const id = 'lifecycle/keeps-changes-made-at-the-idp';
      const setting = required(run.target.backdoor.adminSetting, 'backdoor.adminSetting', id);
      const { updateRedirectUris, rotateSecret } = capabilities();
      if (!updateRedirectUris && !rotateSecret) return ctx.skip(`${adapterId()} announces neither updateRedirectUris nor rotateSecret`);
      // Created through the bridge, so the adapter remembers the client as it was then.
      const { clientId } = await run.createClient(ctx);
      const changed = `changed-at-the-idp-${Date.now().toString(36)}`;
      await setting.set(clientId, changed);
      expect(await setting.get(clientId)).toBe(changed);
      if (updateRedirectUris) {
        const redirectUris = run.target.updatedRedirectUris ?? ['https://app.example.com/new-callback', 'https://other.example.com/cb'];
        const res = await run.call('POST', clientPath(clientId, '/event-hook'), {
          body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: redirectUris }),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(await setting.get(clientId), 'update_application wrote back a stale copy of the client').toBe(changed);
      }
      if (rotateSecret) {
        const res = await run.call('POST', clientPath(clientId, '/new-secret'));
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        await run.target.adapter.drained?.();
        expect(await setting.get(clientId), 'the rotation wrote back a stale copy of the client').toBe(changed);
        expect(await run.target.backdoor.canGetToken(clientId, res.body.client_secret)).toBe(true);
      }
    });

    scenario('lifecycle/delete', async (ctx) => {
      const { clientId, secret } = await run.createClient(ctx);
      const res = await run.call('DELETE', clientPath(clientId));
      expect(res.status, JSON.stringify(res.body)).toBe(204);
      expect(await run.target.backdoor.clientExists(clientId)).toBe(false);
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(false);
    });

    scenario('lifecycle/delete-twice', async (ctx) => {
      const { clientId } = await run.createClient(ctx);
      const first = await run.call('DELETE', clientPath(clientId));
      expect(first.status, JSON.stringify(first.body)).toBe(204);
      const second = await run.call('DELETE', clientPath(clientId));
      expect(second.status, JSON.stringify(second.body)).toBe(204);
      expect(await run.target.backdoor.clientExists(clientId)).toBe(false);
    });
  });
}
