import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createEncryptedStore,
  createJsonStore,
  createMemoryDriver,
  type DcrAdapter,
  type LifecycleSettings,
  type StoreDriver,
} from '@dcr-bridge/core';
import { describe, expect, type TestContext } from 'vitest';
import { createCapturingLogger, type CapturingLogger } from '../capturing-logger.js';
import { operationContext } from '../operation-context.js';
import type { BridgeHarness } from '../harness.js';
import { clientPath, type SuiteRun } from './run.js';
import { required, type ScenarioId } from './scenarios.js';

/**
 * Rotations whose answer Konnect never got, and the overlap: each on adapters the suite builds itself
 * (`target.build`) on a journal and a vault it holds, with short budgets, so that a crash is a copy of the
 * journal handed to a second adapter, and a restart a second adapter on the same journal.
 *
 * What is checked is what Konnect holds: after each fault the secret Konnect last got works (two-secrets and
 * restore), or, where the IdP allows neither, a warning names the client.
 */
export function rotationGroup(run: SuiteRun): void {
  const { scenario } = run;
  /** Short budgets, with room for a loaded CI machine: Konnect's answer at 3 s, IdP work given up at 4 s, landing by 5 s. */
  const OPERATION_MS = 3_000;
  const COMPLETION_MS = 4_000;
  const IN_FLIGHT_MS = 5_000;
  /** The vault's key, the same for every adapter of the run, as a server keeps its store key across restarts. */
  const vaultKeys = [new Uint8Array(randomBytes(32))];
  const OVERLAP_MS = 4_000;

  interface Built {
    adapter: DcrAdapter;
    bridge: BridgeHarness;
    logger: CapturingLogger;
    /** Stops the bridge and closes the adapter (its background work ends; the journal keeps what is open). */
    close(): Promise<void>;
  }

  /** An adapter and its bridge on `driver` (journal and vault), closed when the test ends unless closed before. */
  async function built(ctx: TestContext, id: ScenarioId, driver: StoreDriver, settings: LifecycleSettings = {}): Promise<Built> {
    const build = required(run.target.build, 'build', id);
    const adapter = build({
      journal: createJsonStore(driver),
      vault: createEncryptedStore({ driver, keys: vaultKeys }),
      ...settings,
    });
    const logger = createCapturingLogger();
    const bridge = await run.startBridge(adapter, { logger, operationTimeoutMs: OPERATION_MS, completionTimeoutMs: COMPLETION_MS });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await bridge.close();
      await adapter.close?.();
    };
    ctx.onTestFinished(close);
    await adapter.recover?.({ inFlightMs: IN_FLIGHT_MS });
    // Warm (an admin token, a connection), so that its first Konnect call is answered within the short budget.
    await adapter.checkReady(operationContext());
    return { adapter, bridge, logger, close };
  }

  const mode = (adapter: DcrAdapter) => adapter.rotation?.mode;

  /** Whether a warning named the client whose secret the IdP may have replaced (in the bridge's or the adapter's log). */
  const warnedAbout = (b: Built, clientId: string) =>
    [b.logger, run.target.logger as Partial<CapturingLogger> | undefined].some((logger) =>
      (logger?.lines ?? []).some((line) => line.level === 'warn' && line.clientId === clientId && /replaced/.test(line.msg)),
    );

  async function createOn(ctx: TestContext, b: Built): Promise<{ clientId: string; secret: string }> {
    const res = await b.bridge.call('POST', '/', { body: run.application() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const clientId = res.body.client_id as string;
    ctx.onTestFinished(async () => void (await run.call('DELETE', clientPath(clientId))));
    return { clientId, secret: res.body.client_secret as string };
  }

  async function rotateOn(b: Built, clientId: string): Promise<string> {
    const res = await b.bridge.call('POST', clientPath(clientId, '/new-secret'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await b.adapter.drained?.();
    return res.body.client_secret as string;
  }

  /** Polls until the secret is accepted (`true`) or refused (`false`) at the IdP, for up to `withinMs`. */
  async function becomes(clientId: string, secret: string, works: boolean, withinMs: number): Promise<boolean> {
    const until = Date.now() + withinMs;
    for (;;) {
      const now = await run.target.backdoor.canGetToken(clientId, secret);
      if (now === works || Date.now() > until) return now;
      await sleep(150);
    }
  }

  /** After a rotation Konnect did not get: Konnect's secret works again, or (replace) a warning names the client. */
  async function konnectSecretHolds(b: Built, clientId: string, secret: string): Promise<void> {
    const faults = required(run.target.faults, 'faults', 'rotation/answer-lost');
    await faults.settle();
    await b.adapter.drained?.();
    if (mode(b.adapter) === 'replace') {
      await expect.poll(() => warnedAbout(b, clientId), { timeout: IN_FLIGHT_MS + 3_000 }).toBe(true);
      return;
    }
    expect(await becomes(clientId, secret, true, IN_FLIGHT_MS + 3_000), "Konnect's secret works again").toBe(true);
    // The next rotation Konnect asks for works, and leaves only its secret working.
    const next = await rotateOn(b, clientId);
    expect(await run.target.backdoor.canGetToken(clientId, next)).toBe(true);
    expect(await becomes(clientId, secret, false, 3_000), "Konnect's old secret stops after the next rotation").toBe(false);
  }

  const skipUnlessRotates = (ctx: TestContext) => {
    if (!run.target.adapter.capabilities.rotateSecret) ctx.skip(`${run.target.adapter.id} does not announce rotateSecret`);
  };

  describe('rotation', () => {
    scenario(
      'rotation/answer-lost',
      async (ctx) => {
        skipUnlessRotates(ctx);
        const b = await built(ctx, 'rotation/answer-lost', createMemoryDriver());
        const { clientId, secret } = await createOn(ctx, b);
        const request = required(run.target.rotationRequest, 'rotationRequest', 'rotation/answer-lost');
        required(run.target.faults, 'faults', 'rotation/answer-lost').faultNext(request.method, request.path, 'processed_answer_lost');
        const res = await b.bridge.call('POST', clientPath(clientId, '/new-secret'));
        if (res.status === 200) {
          // The IdP's rotation call is safe to repeat, and the HTTP client did: Konnect holds the new secret.
          await b.adapter.drained?.();
          expect(await run.target.backdoor.canGetToken(clientId, res.body.client_secret)).toBe(true);
          expect(await becomes(clientId, secret, false, 3_000)).toBe(false);
          return;
        }
        expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(500);
        await konnectSecretHolds(b, clientId, secret);
      },
      { timeout: 60_000 },
    );

    scenario(
      'rotation/processed-late',
      async (ctx) => {
        skipUnlessRotates(ctx);
        const b = await built(ctx, 'rotation/processed-late', createMemoryDriver());
        const { clientId, secret } = await createOn(ctx, b);
        const request = required(run.target.rotationRequest, 'rotationRequest', 'rotation/processed-late');
        // Held past the completion budget: the bridge has given up when the IdP processes it.
        required(run.target.faults, 'faults', 'rotation/processed-late').faultNext(request.method, request.path, 'held_then_processed', {
          delayMs: COMPLETION_MS + 600,
        });
        const res = await b.bridge.call('POST', clientPath(clientId, '/new-secret'));
        expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(500);
        await konnectSecretHolds(b, clientId, secret);
      },
      { timeout: 60_000 },
    );

    scenario(
      'rotation/crash-in-flight',
      async (ctx) => {
        skipUnlessRotates(ctx);
        const journal = createMemoryDriver();
        const a = await built(ctx, 'rotation/crash-in-flight', journal);
        const { clientId, secret } = await createOn(ctx, a);
        const request = required(run.target.rotationRequest, 'rotationRequest', 'rotation/crash-in-flight');
        const faults = required(run.target.faults, 'faults', 'rotation/crash-in-flight');
        faults.faultNext(request.method, request.path, 'held_then_processed', { delayMs: 800 });
        const rotating = a.bridge.call('POST', clientPath(clientId, '/new-secret')).catch(() => undefined);
        // The intent is journaled and the IdP call is under way: the process dies. What it had written is what
        // the next process finds (a copy), and it does nothing more at the IdP (closed).
        await sleep(300);
        const disk = createMemoryDriver();
        for (const [key, value] of await journal.list('')) await disk.set(key, value);
        await a.close();
        await rotating;
        await faults.settle();
        const b = await built(ctx, 'rotation/crash-in-flight', disk);
        await b.adapter.drained?.();
        if (mode(b.adapter) === 'replace') {
          expect(warnedAbout(b, clientId), 'the restarted process names the client whose secret may have been replaced').toBe(true);
          return;
        }
        expect(await becomes(clientId, secret, true, IN_FLIGHT_MS + 3_000), "Konnect's secret works after the restart").toBe(true);
        const next = await rotateOn(b, clientId);
        expect(await run.target.backdoor.canGetToken(clientId, next)).toBe(true);
        expect(await becomes(clientId, secret, false, 3_000)).toBe(false);
      },
      { timeout: 60_000 },
    );

    scenario(
      'rotation/overlap',
      async (ctx) => {
        skipUnlessRotates(ctx);
        const build = required(run.target.build, 'build', 'rotation/overlap');
        if (mode(run.target.adapter) !== 'two-secrets') {
          // An IdP that cannot keep two secrets refuses an overlap when the adapter is built (at the server's start).
          expect(() => build({ rotationOverlapMs: OVERLAP_MS })).toThrow(/overlap/);
          return;
        }
        const journal = createMemoryDriver();
        const a = await built(ctx, 'rotation/overlap', journal, { rotationOverlapMs: OVERLAP_MS });
        const { clientId, secret: first } = await createOn(ctx, a);
        const second = await rotateOn(a, clientId);
        const rotatedAt = Date.now();
        expect(await run.target.backdoor.canGetToken(clientId, second), 'the new secret works at once').toBe(true);
        expect(await run.target.backdoor.canGetToken(clientId, first), 'the old secret works within the overlap').toBe(true);
        expect(await becomes(clientId, first, false, OVERLAP_MS + 3_000), 'the old secret stops after the overlap').toBe(false);
        expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(OVERLAP_MS - 200);
        expect(await run.target.backdoor.canGetToken(clientId, second)).toBe(true);

        // Across a restart: the overlap's end is in the journal, and the next process keeps it.
        const third = await rotateOn(a, clientId);
        await a.close();
        const b = await built(ctx, 'rotation/overlap', journal, { rotationOverlapMs: OVERLAP_MS });
        expect(await run.target.backdoor.canGetToken(clientId, second), 'the old secret works within the overlap, after a restart').toBe(
          true,
        );
        expect(await becomes(clientId, second, false, OVERLAP_MS + 3_000), 'and stops after it').toBe(false);
        expect(await run.target.backdoor.canGetToken(clientId, third)).toBe(true);
        await b.adapter.drained?.();
      },
      { timeout: 60_000 },
    );

    scenario(
      'rotation/overlap-twice',
      async (ctx) => {
        skipUnlessRotates(ctx);
        if (mode(run.target.adapter) !== 'two-secrets') return ctx.skip(`${run.target.adapter.id} keeps one secret per client: no overlap`);
        const b = await built(ctx, 'rotation/overlap-twice', createMemoryDriver(), { rotationOverlapMs: OVERLAP_MS });
        const { clientId, secret: first } = await createOn(ctx, b);
        const second = await rotateOn(b, clientId);
        const third = await rotateOn(b, clientId);
        expect(await run.target.backdoor.canGetToken(clientId, first), 'the oldest secret stops at the second rotation').toBe(false);
        expect(await run.target.backdoor.canGetToken(clientId, second), 'the middle one works within the overlap').toBe(true);
        expect(await run.target.backdoor.canGetToken(clientId, third)).toBe(true);
        expect(await becomes(clientId, second, false, OVERLAP_MS + 3_000), 'the middle one stops after the overlap').toBe(false);
        expect(await run.target.backdoor.canGetToken(clientId, third)).toBe(true);
      },
      { timeout: 60_000 },
    );
  });
}
