import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DcrAdapter, Logger } from '@dcr-bridge/core';
import type { FakeIdpKit } from './fake-kit.js';
import { startBridge, type BridgeHarness } from './harness.js';
import { auditLedger, runKonnectLoad } from './load.js';
import { konnectApplication, konnectEvent, konnectVerifyApplication } from './payloads.js';

/**
 * The Konnect scenarios every adapter must pass, run through the real HTTP layer against the adapter and
 * checked at the IdP through a backdoor that does not go through the bridge.
 */
export interface ConformanceBackdoor {
  /** Requests a token from the IdP with these credentials (client_credentials); true when one is issued. */
  canGetToken(clientId: string, clientSecret: string): Promise<boolean>;
  /** Whether the IdP holds this client. */
  clientExists(clientId: string): Promise<boolean>;
  /** The client's redirect URIs as the IdP holds them. */
  redirectUris(clientId: string): Promise<string[]>;
  /** Creates a client directly at the IdP, without the bridge's ownership marker; returns its client id. */
  createForeignClient(): Promise<string>;
  /** How many clients the IdP holds; proves that refused or failed creates leave nothing behind. */
  countClients(): Promise<number>;
  /** The audiences the client's access tokens carry (required for `audienceRegistrations`). */
  audiences?(clientId: string): Promise<string[]>;
}

export interface ConformanceTarget {
  adapter: DcrAdapter;
  backdoor: ConformanceBackdoor;
  /** Fields of the create payload this IdP needs (grant types, scopes that exist there, redirect URIs). */
  application?: Record<string, unknown>;
  /** Redirect URIs for the update_application scenario. Default two https URIs. */
  updatedRedirectUris?: string[];
  /** A scope this IdP does not have; when set, a create asking for it must answer 400 and leave nothing. */
  unknownScope?: string;
  /** A client id no client has. Default a random one. */
  unknownClientId?: string;
  /**
   * Logger for the bridge. With a capturing logger (`createCapturingLogger`) the suite checks that no
   * secret it was handed, and none of `hiddenValues`, ever reached a log line.
   */
  logger?: Logger;
  /** Values that must never be logged besides the client secrets: admin credentials, API tokens. */
  hiddenValues?: string[];
  /**
   * How the adapter sees a client it did not create. `refused` (default): it can tell, and answers 403
   * `client_not_managed`. `unknown`: it cannot even see it (RFC 7592 needs the registration access token
   * that only the creator holds), so it answers as for an unknown client (delete 204, rotate and update
   * 404). Either way the client must stay untouched.
   */
  foreignClients?: 'refused' | 'unknown';
  /**
   * The fake's fault layer (the kit's `injectFaults`/`settle`/`faults`). With it, the fault group drives
   * Konnect's traffic while a fifth of the IdP's requests misbehave in every way the kit knows; without it
   * the group is skipped, saying why.
   */
  faults?: Pick<FakeIdpKit, 'injectFaults' | 'settle' | 'faults'>;
  /**
   * What this IdP's API makes impossible under faults, with the requests concerned. The fault group then
   * tolerates at most one orphan per `processed_answer_lost` fault on `unsearchableCreate` (a create whose
   * answer was lost cannot be found when the IdP cannot be searched), and at most one unmanageable client
   * per such fault on `tokenRotatingUpdate` (an update that rotated the only management token and lost its
   * answer). Everything else stays at zero.
   */
  faultLimits?: {
    unsearchableCreate?: { method: string; path: RegExp };
    tokenRotatingUpdate?: { method: string; path: RegExp };
  };
}

export interface ConformanceOptions {
  /** Shown in the test names, e.g. "keycloak (fake admin API)". */
  name: string;
  /** Builds the adapter and its backdoor (start servers here). */
  setup: () => Promise<ConformanceTarget>;
  /** Stops what setup started. */
  teardown?: () => Promise<void>;
}

export function runConformanceSuite(options: ConformanceOptions): void {
  describe(`Konnect conformance: ${options.name}`, () => {
    let target: ConformanceTarget;
    let bridge: BridgeHarness;
    const issuedSecrets: string[] = [];
    /** Calls the bridge and remembers every client secret it answers with. */
    const call: BridgeHarness['call'] = async (...args) => {
      const res = await bridge.call(...args);
      if (typeof res.body?.client_secret === 'string') issuedSecrets.push(res.body.client_secret);
      return res;
    };
    const app = (overrides: Record<string, unknown> = {}) => konnectApplication({ ...target.application, ...overrides });
    const unknownClientId = () => target.unknownClientId ?? `no-such-client-${Date.now().toString(36)}`;

    beforeAll(async () => {
      target = await options.setup();
      bridge = await startBridge(target.adapter, { logger: target.logger });
    });
    afterAll(async () => {
      await bridge?.close();
      await target?.adapter.close?.();
      await options.teardown?.();
    });

    describe('application lifecycle', () => {
      const state = { clientId: '', secret: '', firstSecret: '' };

      it('creates a client whose credentials get a token', async () => {
        const requested = app();
        const res = await call('POST', '/', { body: requested });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(typeof res.body.client_id).toBe('string');
        expect(typeof res.body.client_secret).toBe('string');
        expect(res.body.client_secret.length).toBeGreaterThan(0);
        expect(Number.isNaN(Date.parse(res.body.client_id_issued_at))).toBe(false);
        if ('client_secret_expires_at' in res.body) expect(Number.isNaN(Date.parse(res.body.client_secret_expires_at))).toBe(false);
        state.clientId = res.body.client_id;
        state.secret = res.body.client_secret;
        state.firstSecret = res.body.client_secret;
        expect(await target.backdoor.clientExists(state.clientId)).toBe(true);
        expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(true);
        expect(await target.backdoor.canGetToken(state.clientId, `${state.secret}x`)).toBe(false);
        expect([...(await target.backdoor.redirectUris(state.clientId))].sort()).toEqual([...(requested.redirect_uris as string[])].sort());
      });

      it('rotates the secret: the old one is refused, the new one works', async (ctx) => {
        if (!target.adapter.capabilities.rotateSecret) {
          const res = await call('POST', `/${encodeURIComponent(state.clientId)}/new-secret`);
          expect(res.status).toBe(400);
          expect(res.body.error).toBe('unsupported_operation');
          return ctx.skip(`${target.adapter.id} does not announce rotateSecret (answered 400 unsupported_operation)`);
        }
        const res = await call('POST', `/${encodeURIComponent(state.clientId)}/new-secret`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.body.client_id).toBe(state.clientId);
        expect(res.body.client_secret).not.toBe(state.secret);
        expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(false);
        expect(await target.backdoor.canGetToken(state.clientId, res.body.client_secret)).toBe(true);
        state.secret = res.body.client_secret;
      });

      it('rotates again: only the newest secret works', async (ctx) => {
        if (!target.adapter.capabilities.rotateSecret) return ctx.skip(`${target.adapter.id} does not announce rotateSecret`);
        const res = await call('POST', `/${encodeURIComponent(state.clientId)}/new-secret`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(await target.backdoor.canGetToken(state.clientId, state.firstSecret)).toBe(false);
        expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(false);
        expect(await target.backdoor.canGetToken(state.clientId, res.body.client_secret)).toBe(true);
        state.secret = res.body.client_secret;
      });

      it('update_application replaces the redirect URIs and nothing else', async (ctx) => {
        const redirectUris = target.updatedRedirectUris ?? ['https://app.example.com/new-callback', 'https://other.example.com/cb'];
        const res = await call('POST', `/${encodeURIComponent(state.clientId)}/event-hook`, {
          body: konnectEvent(state.clientId, { event_type: 'update_application', redirect_uris: redirectUris }),
        });
        if (!target.adapter.capabilities.updateRedirectUris) {
          expect(res.status).toBe(400);
          expect(res.body.error).toBe('unsupported_operation');
          return ctx.skip(`${target.adapter.id} does not announce updateRedirectUris (answered 400 unsupported_operation)`);
        }
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect([...(await target.backdoor.redirectUris(state.clientId))].sort()).toEqual([...redirectUris].sort());
        expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(true);
      });

      it('add_registration / remove_registration with an audience change the token audience', async (ctx) => {
        const audience = `https://api.example.com/product-${Date.now().toString(36)}`;
        const add = await call('POST', `/${encodeURIComponent(state.clientId)}/event-hook`, {
          body: konnectEvent(state.clientId, { event_type: 'add_registration', audience }),
        });
        expect(add.status, JSON.stringify(add.body)).toBe(200);
        if (!target.adapter.capabilities.audienceRegistrations || !target.backdoor.audiences) {
          expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(true);
          return ctx.skip(`${target.adapter.id} does not announce audienceRegistrations (event acknowledged, nothing changed)`);
        }
        expect(await target.backdoor.audiences(state.clientId)).toContain(audience);
        const remove = await call('POST', `/${encodeURIComponent(state.clientId)}/event-hook`, {
          body: konnectEvent(state.clientId, { event_type: 'remove_registration', audience }),
        });
        expect(remove.status, JSON.stringify(remove.body)).toBe(200);
        expect(await target.backdoor.audiences(state.clientId)).not.toContain(audience);
        expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(true);
      });

      it('add_registration without an audience is acknowledged', async () => {
        const res = await call('POST', `/${encodeURIComponent(state.clientId)}/event-hook`, {
          body: konnectEvent(state.clientId, { event_type: 'add_registration' }),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(true);
      });

      it('deletes the client: it is gone and its credentials are refused', async () => {
        const res = await call('DELETE', `/${encodeURIComponent(state.clientId)}`);
        expect(res.status, JSON.stringify(res.body)).toBe(204);
        expect(await target.backdoor.clientExists(state.clientId)).toBe(false);
        expect(await target.backdoor.canGetToken(state.clientId, state.secret)).toBe(false);
      });

      it('deletes it again: 204', async () => {
        const res = await call('DELETE', `/${encodeURIComponent(state.clientId)}`);
        expect(res.status, JSON.stringify(res.body)).toBe(204);
      });
    });

    describe('unknown clients', () => {
      it('delete of a client that never existed answers 204', async () => {
        const res = await call('DELETE', `/${encodeURIComponent(unknownClientId())}`);
        expect(res.status, JSON.stringify(res.body)).toBe(204);
      });

      it('rotate of an unknown client answers 404', async (ctx) => {
        if (!target.adapter.capabilities.rotateSecret) return ctx.skip(`${target.adapter.id} does not announce rotateSecret`);
        const res = await call('POST', `/${encodeURIComponent(unknownClientId())}/new-secret`);
        expect(res.status, JSON.stringify(res.body)).toBe(404);
        expect(res.body.error).toBe('not_found');
      });

      it('update_application of an unknown client answers 404', async (ctx) => {
        if (!target.adapter.capabilities.updateRedirectUris) return ctx.skip(`${target.adapter.id} does not announce updateRedirectUris`);
        const id = unknownClientId();
        const res = await call('POST', `/${encodeURIComponent(id)}/event-hook`, {
          body: konnectEvent(id, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb'] }),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(404);
        expect(res.body.error).toBe('not_found');
      });
    });

    describe('clients the bridge did not create', () => {
      let foreignId = '';
      const refused = () => (target.foreignClients ?? 'refused') === 'refused';
      beforeAll(async () => {
        foreignId = await target.backdoor.createForeignClient();
      });

      it('delete is refused (or treated as unknown) and the client stays', async () => {
        const res = await call('DELETE', `/${encodeURIComponent(foreignId)}`);
        if (refused()) {
          expect(res.status, JSON.stringify(res.body)).toBe(403);
          expect(res.body.error).toBe('client_not_managed');
        } else {
          expect(res.status, JSON.stringify(res.body)).toBe(204);
        }
        expect(await target.backdoor.clientExists(foreignId)).toBe(true);
      });

      it('rotate is refused (or treated as unknown)', async (ctx) => {
        if (!target.adapter.capabilities.rotateSecret) return ctx.skip(`${target.adapter.id} does not announce rotateSecret`);
        const res = await call('POST', `/${encodeURIComponent(foreignId)}/new-secret`);
        expect(res.status, JSON.stringify(res.body)).toBe(refused() ? 403 : 404);
        expect(res.body.error).toBe(refused() ? 'client_not_managed' : 'not_found');
        expect(await target.backdoor.clientExists(foreignId)).toBe(true);
      });

      it('update_application is refused (or treated as unknown) and the redirect URIs stay', async (ctx) => {
        if (!target.adapter.capabilities.updateRedirectUris) return ctx.skip(`${target.adapter.id} does not announce updateRedirectUris`);
        const before = await target.backdoor.redirectUris(foreignId);
        const res = await call('POST', `/${encodeURIComponent(foreignId)}/event-hook`, {
          body: konnectEvent(foreignId, { event_type: 'update_application', redirect_uris: ['https://attacker.example.com/cb'] }),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(refused() ? 403 : 404);
        expect(await target.backdoor.redirectUris(foreignId)).toEqual(before);
      });
    });

    describe('what Konnect really sends', () => {
      it('the Verify button (portal_id "test portal_id") creates a working client', async () => {
        const res = await call('POST', '/', { body: konnectVerifyApplication(target.application) });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(await target.backdoor.canGetToken(res.body.client_id, res.body.client_secret)).toBe(true);
        expect((await call('DELETE', `/${encodeURIComponent(res.body.client_id)}`)).status).toBe(204);
      });

      it('two applications with the same name both get their own client', async () => {
        const name = `Same name ${Date.now().toString(36)}`;
        const first = await call('POST', '/', { body: app({ client_name: name }) });
        const second = await call('POST', '/', { body: app({ client_name: name }) });
        expect(first.status, JSON.stringify(first.body)).toBe(201);
        expect(second.status, JSON.stringify(second.body)).toBe(201);
        expect(second.body.client_id).not.toBe(first.body.client_id);
        for (const created of [first.body, second.body]) {
          expect(await target.backdoor.canGetToken(created.client_id, created.client_secret)).toBe(true);
          expect((await call('DELETE', `/${encodeURIComponent(created.client_id)}`)).status).toBe(204);
        }
      });

      it('fields the spec does not list yet are tolerated', async () => {
        const res = await call('POST', '/', { body: app({ some_future_field: { nested: true }, allow_multiple_credentials: false }) });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect((await call('DELETE', `/${encodeURIComponent(res.body.client_id)}`)).status).toBe(204);
      });
    });

    describe('two Konnect calls on one client at once', () => {
      const created = async () => {
        const res = await call('POST', '/', { body: app() });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return { clientId: res.body.client_id as string, secret: res.body.client_secret as string };
      };

      it('ten rounds of a rotation and an update at once: both succeed, only the new secret works, the URIs are the new ones', async (ctx) => {
        if (!target.adapter.capabilities.rotateSecret || !target.adapter.capabilities.updateRedirectUris) return ctx.skip(`${target.adapter.id} does not announce both rotateSecret and updateRedirectUris`);
        const { clientId, secret } = await created();
        let current = secret;
        for (let round = 0; round < 10; round++) {
          const redirectUris = [`https://app.example.com/race-${round}`];
          const [rotated, updated] = await Promise.all([
            call('POST', `/${encodeURIComponent(clientId)}/new-secret`),
            call('POST', `/${encodeURIComponent(clientId)}/event-hook`, { body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: redirectUris }) }),
          ]);
          expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
          expect(updated.status, JSON.stringify(updated.body)).toBe(200);
          expect(await target.backdoor.canGetToken(clientId, current)).toBe(false);
          expect(await target.backdoor.canGetToken(clientId, rotated.body.client_secret)).toBe(true);
          expect(await target.backdoor.redirectUris(clientId)).toEqual(redirectUris);
          current = rotated.body.client_secret;
        }
        expect((await call('DELETE', `/${encodeURIComponent(clientId)}`)).status).toBe(204);
      });

      it('two rotations at once: both answer 200 and exactly one of the two secrets works', async (ctx) => {
        if (!target.adapter.capabilities.rotateSecret) return ctx.skip(`${target.adapter.id} does not announce rotateSecret`);
        const { clientId, secret } = await created();
        const answers = await Promise.all([1, 2].map(() => call('POST', `/${encodeURIComponent(clientId)}/new-secret`)));
        for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        const working = await Promise.all(answers.map((answer) => target.backdoor.canGetToken(clientId, answer.body.client_secret)));
        expect(working.filter(Boolean)).toHaveLength(1);
        expect(await target.backdoor.canGetToken(clientId, secret)).toBe(false);
        expect((await call('DELETE', `/${encodeURIComponent(clientId)}`)).status).toBe(204);
      });

      it('a delete, a rotation and an update at once: the client ends deleted, every secret dead, no 5xx', async () => {
        const { clientId, secret } = await created();
        const id = encodeURIComponent(clientId);
        const [deleted, rotated, updated] = await Promise.all([
          call('DELETE', `/${id}`),
          call('POST', `/${id}/new-secret`),
          call('POST', `/${id}/event-hook`, { body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/late'] }) }),
        ]);
        expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
        for (const answer of [rotated, updated]) expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
        expect(await target.backdoor.clientExists(clientId)).toBe(false);
        expect(await target.backdoor.canGetToken(clientId, secret)).toBe(false);
        if (rotated.status === 200) expect(await target.backdoor.canGetToken(clientId, rotated.body.client_secret)).toBe(false);
      });
    });

    describe('under IdP faults', () => {
      it('keeps its promises while a fifth of the IdP requests fail, hang, or complete late or unanswered', { timeout: 180_000 }, async (ctx) => {
        const faults = target.faults;
        if (!faults) return ctx.skip('the target gives the suite no fault layer (ConformanceTarget.faults)');
        const operationTimeoutMs = 1_200;
        const harness = await startBridge(target.adapter, { operationTimeoutMs, completionTimeoutMs: 5_000, logger: target.logger });
        try {
          const baseline = await target.backdoor.countClients();
          const seed = Math.floor(Math.random() * 2 ** 31);
          const injectedBefore = faults.faults.length;
          faults.injectFaults({ rate: 0.2, delayMs: [800, 2_000], seed });
          // A bridge that waited on a hung IdP would answer after the 5 s completion budget; 2.5 s of slack over
          // the deadline keeps that visible while a loaded CI machine schedules answers late.
          const ledger = await runKonnectLoad({ call: harness.call, operations: 80, concurrency: 8, application: target.application, budgetMs: operationTimeoutMs + 2_500, seed });
          faults.injectFaults(undefined);
          await faults.settle();
          await target.adapter.drained?.();
          const injected = faults.faults.slice(injectedBefore);
          const lostAnswers = (request?: { method: string; path: RegExp }) =>
            request ? injected.filter((fault) => fault.kind === 'processed_answer_lost' && fault.method === request.method && request.path.test(fault.path)).length : 0;
          const report = await auditLedger(ledger, target.backdoor, harness.call, baseline);
          await target.adapter.drained?.();
          const context = `seed ${seed}; ${injected.length} faults injected; answers ${JSON.stringify(ledger.answers)}; audit ${JSON.stringify(report)}`;
          expect(injected.length, context).toBeGreaterThan(5);
          expect({ zombies: report.zombies, resurrectedSecrets: report.resurrectedSecrets, missing: report.missing, deadSecrets: report.deadSecrets, slowAnswers: report.slowAnswers, badErrors: report.badErrors }, context).toEqual({
            zombies: 0,
            resurrectedSecrets: 0,
            missing: 0,
            deadSecrets: 0,
            slowAnswers: 0,
            badErrors: 0,
          });
          expect(report.orphans, context).toBeLessThanOrEqual(lostAnswers(target.faultLimits?.unsearchableCreate));
          expect(report.unmanageable, context).toBeLessThanOrEqual(lostAnswers(target.faultLimits?.tokenRotatingUpdate));
        } finally {
          faults.injectFaults(undefined);
          await harness.close();
        }
      });
    });

    describe('logs', () => {
      it('no client secret the bridge handed out, nor any hidden value, reaches a log line', (ctx) => {
        const text = (target.logger as { text?: () => string } | undefined)?.text?.();
        if (text === undefined) return ctx.skip('the target gives no capturing logger (createCapturingLogger)');
        expect(issuedSecrets.length).toBeGreaterThan(3);
        for (const secret of [...issuedSecrets, ...(target.hiddenValues ?? [])]) expect(text).not.toContain(secret);
      });
    });

    describe('refused requests change nothing', () => {
      it('a wrong API key answers 401 and creates nothing', async () => {
        const before = await target.backdoor.countClients();
        const res = await call('POST', '/', { body: app(), apiKey: 'wrong_key_wrong_key' });
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('unauthorized');
        expect(await target.backdoor.countClients()).toBe(before);
      });

      it('an invalid redirect URI answers 400 invalid_redirect_uri and creates nothing', async () => {
        const before = await target.backdoor.countClients();
        const res = await call('POST', '/', { body: app({ redirect_uris: ['not a uri'] }) });
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('invalid_redirect_uri');
        expect(await target.backdoor.countClients()).toBe(before);
      });

      it('a scope the IdP does not have answers 400 naming it and creates nothing', async (ctx) => {
        if (!target.unknownScope) return ctx.skip('the target names no unknown scope');
        const before = await target.backdoor.countClients();
        const scopes = [...((target.application?.scopes as string[] | undefined) ?? []), target.unknownScope];
        const res = await call('POST', '/', { body: app({ scopes }) });
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error_description).toContain(target.unknownScope);
        expect(await target.backdoor.countClients()).toBe(before);
      });
    });
  });
}
