import { describe, expect, type TestContext } from 'vitest';
import type { DcrAdapter } from '@dcr-bridge/core';
import type { BridgeHarness } from '../harness.js';
import { operationContext } from '../operation-context.js';
import { konnectEvent } from '../payloads.js';
import { required, type ScenarioId } from './scenarios.js';
import { clientPath, sorted, type SuiteRun } from './run.js';
import type { CallBudget, OperationCalls } from './target.js';

/** An audience for the registration events (any: an IdP without audiences acknowledges them). */
const AUDIENCE = 'https://orders.example.com/calls-budget';

/**
 * What each Konnect operation costs at the IdP, held to the budget the target declares (`callBudget`) and
 * counted from the IdP's request log (`idp.adminRequests`), the work after the answer included (a retired
 * secret, drained): **remembered** on the suite's adapter, which created the client; **cold** on a new adapter
 * (`build`) that has never seen it, made ready first as a server is before its first request.
 */
export function callsGroup(run: SuiteRun): void {
  const { scenario } = run;

  const budgetOf = (id: ScenarioId, operation: keyof CallBudget): OperationCalls => {
    const budget = required(run.target.callBudget, 'callBudget', id)[operation];
    return required(budget, `callBudget.${operation}`, id);
  };

  /** The admin requests `work` causes, once it and the background work it leaves on `adapters` are done. */
  async function requestsOf(id: ScenarioId, adapters: DcrAdapter[], work: () => Promise<void>): Promise<string[]> {
    const log = required(run.target.idp?.adminRequests, 'idp.adminRequests', id);
    for (const adapter of adapters) await adapter.drained?.();
    const start = log().length;
    await work();
    for (const adapter of adapters) await adapter.drained?.();
    return log().slice(start);
  }

  /** The count must be the budget exactly (fewer calls too: the README would overstate them); a failure shows the requests. */
  function expectBudgeted(what: string, requests: string[], expected: number): void {
    expect(requests.length, `${what}: ${requests.length} IdP requests, the budget says ${expected}:\n${requests.join('\n')}`).toBe(
      expected,
    );
  }

  /** A new adapter on the same IdP, ready, that has seen no client, on a bridge of its own; closed when the test ends. */
  async function coldBridge(ctx: TestContext, id: ScenarioId): Promise<{ adapter: DcrAdapter; bridge: BridgeHarness }> {
    const adapter = required(run.target.build, 'build', id)({});
    const bridge = await run.startBridge(adapter, { logger: run.target.logger });
    ctx.onTestFinished(async () => {
      await bridge.close();
      await adapter.close?.();
    });
    await adapter.checkReady(operationContext());
    return { adapter, bridge };
  }

  /** A client of the operation's own, and the Konnect call measured on it; `check` then reads the IdP (unmeasured). */
  interface Measured {
    call: (on: BridgeHarness, client: { clientId: string; secret: string }) => Promise<(() => Promise<void>) | void>;
    /** Unmeasured, before the call: what the operation needs to find at the IdP. */
    prepare?: (client: { clientId: string }) => Promise<void>;
  }

  /** Runs `operation` on a client of its own, remembered (the suite's bridge created it) and then cold. */
  async function bothWays(ctx: TestContext, id: ScenarioId, operation: keyof CallBudget, measured: Measured): Promise<void> {
    const budget = budgetOf(id, operation);
    const main = run.target.adapter;
    const measure = async (on: BridgeHarness, adapters: DcrAdapter[], what: string, expected: number) => {
      const client = await run.createClient(ctx);
      await measured.prepare?.(client);
      const checks: Array<() => Promise<void>> = [];
      const requests = await requestsOf(id, adapters, async () => {
        const check = await measured.call(on, client);
        if (check) checks.push(check);
      });
      expectBudgeted(what, requests, expected);
      for (const check of checks) await check();
    };
    await measure(run.bridge, [main], `${operation}, remembered`, budget.remembered);
    const cold = await coldBridge(ctx, id);
    await measure(cold.bridge, [main, cold.adapter], `${operation}, cold`, budget.cold);
  }

  const skipUnless = (ctx: TestContext, capability: keyof DcrAdapter['capabilities']) => {
    if (!run.target.adapter.capabilities[capability]) ctx.skip(`${run.target.adapter.id} does not announce ${capability}`);
  };

  describe('calls', () => {
    scenario('calls/create', async (ctx) => {
      const budget = budgetOf('calls/create', 'create');
      const main = run.target.adapter;
      // Remembered: what a create costs a process that has created before (what it learns once is learnt).
      await run.createClient(ctx);
      let created = { clientId: '', secret: '' };
      expectBudgeted(
        'create, remembered',
        await requestsOf('calls/create', [main], async () => void (created = await run.createClient(ctx))),
        budget.remembered,
      );
      expect(await run.target.backdoor.canGetToken(created.clientId, created.secret), 'the client created works').toBe(true);
      const cold = await coldBridge(ctx, 'calls/create');
      const requests = await requestsOf('calls/create', [main, cold.adapter], async () => {
        const res = await cold.bridge.call('POST', '/', { body: run.application() });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        ctx.onTestFinished(async () => void (await run.call('DELETE', clientPath(res.body.client_id as string))));
      });
      expectBudgeted('create, cold', requests, budget.cold);
    });

    scenario('calls/rotate', async (ctx) => {
      skipUnless(ctx, 'rotateSecret');
      await bothWays(ctx, 'calls/rotate', 'rotate', {
        async call(on, { clientId, secret }) {
          const res = await on.call('POST', clientPath(clientId, '/new-secret'));
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          return async () => {
            expect(await run.target.backdoor.canGetToken(clientId, res.body.client_secret as string), 'the new secret works').toBe(true);
            expect(await run.target.backdoor.canGetToken(clientId, secret), 'the old secret is refused').toBe(false);
          };
        },
      });
    });

    scenario('calls/update', async (ctx) => {
      skipUnless(ctx, 'updateRedirectUris');
      const redirectUris = run.target.updatedRedirectUris ?? ['https://app.example.com/calls-budget'];
      await bothWays(ctx, 'calls/update', 'update', {
        async call(on, { clientId }) {
          const res = await on.call('POST', clientPath(clientId, '/event-hook'), {
            body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: redirectUris }),
          });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          return async () => expect(sorted(await run.target.backdoor.redirectUris(clientId))).toEqual(sorted(redirectUris));
        },
      });
    });

    scenario('calls/registration', async (ctx) => {
      const event = async (on: BridgeHarness, clientId: string, eventType: 'add_registration' | 'remove_registration') => {
        const res = await on.call('POST', clientPath(clientId, '/event-hook'), {
          body: konnectEvent(clientId, { event_type: eventType, audience: AUDIENCE }),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      };
      await bothWays(ctx, 'calls/registration', 'registration', { call: (on, { clientId }) => event(on, clientId, 'add_registration') });
      // A removal, of an audience added before the measurement.
      await bothWays(ctx, 'calls/registration', 'registration', {
        prepare: ({ clientId }) => event(run.bridge, clientId, 'add_registration'),
        call: (on, { clientId }) => event(on, clientId, 'remove_registration'),
      });
    });

    scenario('calls/delete', async (ctx) => {
      await bothWays(ctx, 'calls/delete', 'delete', {
        async call(on, { clientId, secret }) {
          expect((await on.call('DELETE', clientPath(clientId))).status).toBe(204);
          return async () => {
            expect(await run.target.backdoor.clientExists(clientId), 'the client is gone').toBe(false);
            expect(await run.target.backdoor.canGetToken(clientId, secret), 'its credentials are refused').toBe(false);
          };
        },
      });
    });
  });
}
