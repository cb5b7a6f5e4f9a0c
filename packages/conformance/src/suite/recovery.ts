import { randomUUID } from 'node:crypto';
import {
  JOURNAL_PREFIX,
  createJsonStore,
  createMemoryDriver,
  type DcrAdapter,
  type JournalEntry,
  type RecoveryReport,
  type StateStore,
} from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { describe, expect, type TestContext } from 'vitest';
import { operationContext } from '../operation-context.js';
import { clientPath, type SuiteRun } from './run.js';
import { required, type ScenarioId } from './scenarios.js';

/** What recover() reports when it found one open create and `outcome` happened to it. */
const reportOf = (outcome: 'undone' | 'neverCreated'): RecoveryReport => ({
  open: 1,
  undone: 0,
  neverCreated: 0,
  unresolved: 0,
  kept: 0,
  rotations: 0,
  [outcome]: 1,
});

/**
 * Core's recovery of creates Konnect never got, on this adapter and its IdP: each scenario builds its adapters
 * (`target.build`) on a journal it holds, so that a crash is a second adapter handed the journal as the first
 * left it (a copy, the first closed without touching the IdP again). What is checked is the IdP's real state:
 * the client is gone and its credentials get no token, other clients stay, and the journal is empty.
 */
export function recoveryGroup(run: SuiteRun): void {
  const { scenario } = run;

  /** An adapter on `journal`, closed when the test ends. */
  function built(ctx: TestContext, id: ScenarioId, journal: StateStore): DcrAdapter {
    const adapter = required(run.target.build, 'build', id)({ journal });
    ctx.onTestFinished(async () => {
      await adapter.drained?.();
      await adapter.close?.();
    });
    return adapter;
  }

  /**
   * A create whose process dies after the IdP created the client and before Konnect got the answer: its
   * deadline passes while the IdP works (so no `answering` mark is written), and its journal is copied as it
   * was. The process then ends without a further IdP call (Konnect's answer "taken" in its own journal only).
   */
  async function crashedCreate(
    ctx: TestContext,
    id: ScenarioId,
    clientName: string,
  ): Promise<{ clientId: string; secret: string; journal: StateStore }> {
    const driver = createMemoryDriver();
    const crashed = built(ctx, id, createJsonStore(driver));
    let deliver = (_answered: boolean) => {};
    const deadline = new AbortController();
    const creating = crashed.createClient(parseRegistration(run.application({ client_name: clientName })), {
      ...operationContext({ answered: new Promise<boolean>((resolve) => (deliver = resolve)) }),
      deadline: deadline.signal,
    });
    // The create has started (the deadline is checked before anything else): Konnect's deadline passes meanwhile.
    deadline.abort();
    const created = await creating;
    ctx.onTestFinished(async () => void (await run.call('DELETE', clientPath(created.clientId))));
    const disk = createMemoryDriver();
    for (const [key, value] of await driver.list('')) await disk.set(key, value);
    deliver(true);
    return { clientId: created.clientId, secret: created.clientSecret, journal: createJsonStore(disk) };
  }

  /** The open create of a journal (exactly one). */
  async function onlyEntry(journal: StateStore): Promise<[string, JournalEntry]> {
    const entries = await journal.list<JournalEntry>(JOURNAL_PREFIX);
    expect(entries, 'the journal holds the open create').toHaveLength(1);
    return entries[0] as [string, JournalEntry];
  }

  /** The client is gone at the IdP and its credentials get no token. */
  async function goneAtIdp(clientId: string, secret: string): Promise<void> {
    expect(await run.target.backdoor.clientExists(clientId), `client ${clientId} is deleted at the IdP`).toBe(false);
    expect(await run.target.backdoor.canGetToken(clientId, secret), 'its credentials get no token').toBe(false);
  }

  describe('recovery', () => {
    scenario('recovery/unanswered-create', async (ctx) => {
      const journal = createJsonStore(createMemoryDriver());
      const adapter = built(ctx, 'recovery/unanswered-create', journal);
      const created = await adapter.createClient(
        parseRegistration(run.application({ client_name: 'Unanswered' })),
        operationContext({ answered: Promise.resolve(false) }),
      );
      ctx.onTestFinished(async () => void (await run.call('DELETE', clientPath(created.clientId))));
      await adapter.drained?.();
      await goneAtIdp(created.clientId, created.clientSecret);
      expect(await journal.list(JOURNAL_PREFIX), 'the journal entry is closed once the client is deleted').toEqual([]);
    });

    scenario('recovery/crash', async (ctx) => {
      const { clientId, secret, journal } = await crashedCreate(ctx, 'recovery/crash', 'Crashed');
      expect(await run.target.backdoor.canGetToken(clientId, secret), 'the client the crashed process created works').toBe(true);
      const next = built(ctx, 'recovery/crash', journal);
      expect(await next.recover?.({ inFlightMs: 0 })).toEqual(reportOf('undone'));
      await goneAtIdp(clientId, secret);
      expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
    });

    scenario('recovery/by-nonce', async (ctx) => {
      const { clientId, secret, journal } = await crashedCreate(ctx, 'recovery/by-nonce', 'Lost answer');
      const [key, entry] = await onlyEntry(journal);
      // As a process leaves it that died before the IdP's answer to the create arrived: no client id.
      await journal.set(key, { nonce: entry.nonce, clientName: entry.clientName, startedAt: entry.startedAt });
      const foreign = await run.target.backdoor.createForeignClient();
      const before = await run.target.backdoor.countClients();
      const next = built(ctx, 'recovery/by-nonce', journal);
      expect(await next.recover?.({ inFlightMs: 0 })).toEqual(reportOf('undone'));
      await goneAtIdp(clientId, secret);
      expect(await run.target.backdoor.clientExists(foreign), 'a client the bridge did not create stays').toBe(true);
      expect(await run.target.backdoor.countClients(), 'only the lost client is deleted').toBe(before - 1);
      expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
    });

    scenario('recovery/never-created', async (ctx) => {
      const journal = createJsonStore(createMemoryDriver());
      // A nonce as core makes them: the entry of a create the process wrote, then died before calling the IdP.
      const nonce = randomUUID().replaceAll('-', '').slice(0, 8);
      await journal.set(`${JOURNAL_PREFIX}${nonce}`, { nonce, clientName: 'Never made', startedAt: new Date().toISOString() });
      const before = await run.target.backdoor.countClients();
      const next = built(ctx, 'recovery/never-created', journal);
      expect(await next.recover?.({ inFlightMs: 0 })).toEqual(reportOf('neverCreated'));
      expect(await run.target.backdoor.countClients(), 'nothing is deleted').toBe(before);
      expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
    });
  });
}
