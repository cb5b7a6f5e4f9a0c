import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idpTargets, type AdapterId, type IdpTarget } from './idp-targets.js';
import { call as callBridge, konnectLoad as startLoad, logLines, waitForLine, type RecoveryReport } from './konnect-calls.js';
import { runBridgeProcess, type BridgeProcess } from './process.js';

/**
 * The real server process, killed with SIGKILL while creates are in flight and restarted on the same
 * store file, for every adapter. The IdP holds each create for 100–600 ms and then carries it out even
 * when the caller has gone, so the killed process's creates complete at the IdP after it died: the
 * restarted process must find and delete them (recovery), and leave every client Konnect got a 201 for
 * alone and working.
 */
const apiKey = 'crash_test_api_key_0123456789';
const ROUNDS = 2;
const CONCURRENCY = 8;
const LOAD_MS = 1_000;
const MIN_ANSWERED = 4;
const MAX_LOAD_MS = 20_000;
// Recovery searches for a create without a client id only once the completion budget has passed since it started:
// the larger of this and the operation timeout (9 s by default, which the creates under load need).
const COMPLETION_TIMEOUT_MS = 1_500;
const RECOVERY_TIMEOUT_MS = 20_000;
const RECOVERED = 'recovered the creates a previous process left open';

async function waitForRecovery(bridge: BridgeProcess): Promise<RecoveryReport> {
  return (await waitForLine(bridge, RECOVERED, RECOVERY_TIMEOUT_MS)) as unknown as RecoveryReport;
}

const call = (bridge: BridgeProcess, method: string, path: string, body?: unknown) => callBridge(bridge, apiKey, method, path, body);
const konnectLoad = (bridge: BridgeProcess, application: Record<string, unknown>) => startLoad(bridge, apiKey, application, CONCURRENCY);

describe.each(Object.keys(idpTargets) as AdapterId[])('%s: the server killed under load and restarted on the same store', (id) => {
  let target: IdpTarget;
  let dir: string;
  const processes: BridgeProcess[] = [];

  beforeAll(async () => {
    target = await idpTargets[id]();
    dir = mkdtempSync(join(tmpdir(), `dcr-crash-${id}-`));
  });
  afterAll(async () => {
    // Every step runs even when an earlier one fails, so that no process outlives the file.
    await Promise.allSettled(processes.map((bridge) => bridge.stop('SIGKILL')));
    try {
      target?.faults?.injectFaults(undefined);
      await target?.faults?.settle();
    } finally {
      try {
        await target?.close();
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  async function start(env: Record<string, string>): Promise<BridgeProcess> {
    const bridge = await runBridgeProcess(env);
    processes.push(bridge);
    return bridge;
  }

  it(
    `${ROUNDS} rounds: no orphan after recovery, every client Konnect holds works, rotates and deletes`,
    { timeout: 90_000 },
    async (ctx) => {
      const env = {
        ...target.env,
        DCR_BRIDGE_API_KEYS: apiKey,
        DCR_BRIDGE_STORE: join(dir, 'dcr-bridge.sqlite'),
        DCR_BRIDGE_JOURNAL: join(dir, 'dcr-bridge.journal'),
        DCR_BRIDGE_COMPLETION_TIMEOUT_MS: String(COMPLETION_TIMEOUT_MS),
      };
      const faults = target.faults;
      const { method, path } = target.createPath;
      // Slow creates that complete at the IdP even after the caller has gone: the hardest case for recovery.
      faults?.injectFaults({ rate: 1, kinds: ['held_then_processed'], delayMs: [100, 600], match: (m, p) => m === method && path.test(p) });
      let bridge = await start(env);

      for (let round = 1; round <= ROUNDS; round++) {
        const baseline = await target.countClients();
        const before = new Set((await target.listClients?.())?.map((client) => client.clientId));

        const load = konnectLoad(bridge, target.application);
        // At least LOAD_MS, and until some creates were answered: a loaded CI machine may answer none in 1 s.
        const loadUntil = performance.now() + MAX_LOAD_MS;
        await sleep(LOAD_MS);
        while (load.answered() < MIN_ANSWERED && performance.now() < loadUntil) await sleep(50);
        const inFlightAtKill = load.stop();
        const killedAt = performance.now();
        bridge.child.kill('SIGKILL');
        await bridge.exited;
        const { held, statuses } = await load.done();

        // Straight back up on the same file: the killed process's lock is taken over.
        const restarting = performance.now();
        bridge = await start(env);
        const listeningMs = Math.round(performance.now() - restarting);
        await faults?.settle();
        const report = await waitForRecovery(bridge);
        const recoveredMs = Math.round(performance.now() - restarting);

        const exists = await Promise.all(held.map((client) => target.clientExists(client.clientId)));
        const kept = held.filter((_, index) => exists[index]);
        const deleted = held.filter((_, index) => !exists[index]);
        const orphans = (await target.countClients()) - baseline - kept.length;
        const { open, undone, neverCreated, unresolved, kept: answering } = report;
        const figures = {
          round,
          held: held.length,
          inFlightAtKill,
          open,
          undone,
          neverCreated,
          unresolved,
          answering,
          orphans,
          heldDeleted: deleted.map(
            (client) => `${client.clientId} answered ${Math.round(killedAt - client.answeredAt)} ms before the kill`,
          ),
          listeningMs,
          recoveredMs,
        };
        const context = JSON.stringify(figures);
        ctx.annotate(`${id} ${context}`);

        expect(
          statuses.every((status) => status === 201),
          `${context} ${statuses.join(',')}`,
        ).toBe(true);
        expect(held.length, context).toBeGreaterThan(0);
        expect(inFlightAtKill, context).toBeGreaterThan(0);
        expect(open, context).toBeGreaterThan(0);
        // Recovery never deletes a client Konnect got a 201 for: an entry whose answer was leaving is kept.
        expect(deleted, context).toEqual([]);
        // A kept entry whose answer did not make it is an orphan, and the restarted server names it for an operator.
        const keptIds = new Set(
          logLines(bridge)
            .filter((line) => line.level === 'warn' && String(line.msg).startsWith('a create was answering Konnect'))
            .map((line) => line.clientId),
        );
        expect(keptIds.size, context).toBe(answering);

        if (target.listClients) {
          // RFC 7591 clients cannot be searched: a create whose answer never reached the killed process
          // cannot be found. Core logs each such create (the nonce its client's name ends in) for an
          // operator. So: at most one orphan per create the journal held without a client id (unresolved),
          // and every orphan's nonce in an error line of the restarted server.
          const heldIds = new Set(held.map((client) => client.clientId));
          expect(unresolved, context).toBeLessThanOrEqual(inFlightAtKill);
          const orphaned = (await target.listClients()).filter((client) => !before.has(client.clientId) && !heldIds.has(client.clientId));
          expect(orphaned.length, context).toBe(orphans);
          expect(orphans, context).toBeLessThanOrEqual(unresolved + answering);
          const errors = logLines(bridge).filter((line) => line.level === 'error');
          for (const client of orphaned.filter((candidate) => !keptIds.has(candidate.clientId))) {
            const nonce = /\[([a-z0-9]{8})\]$/.exec(client.clientName)?.[1];
            expect(nonce, client.clientName).toBeDefined();
            expect(
              errors.some((line) => line.nonce === nonce && line.msg.includes(`"${nonce}"`)),
              `${client.clientName} ${context}`,
            ).toBe(true);
          }
        } else {
          expect(orphans, context).toBeLessThanOrEqual(answering);
          expect(unresolved, context).toBe(0);
        }

        // What Konnect holds still works through the restarted server: the secret it got, a rotation, a delete.
        await Promise.all(
          kept.map(async ({ clientId, clientSecret }) => {
            expect(await target.canGetToken(clientId, clientSecret), clientId).toBe(true);
            const rotated = await call(bridge, 'POST', `/${encodeURIComponent(clientId)}/new-secret`);
            expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
            expect(await target.canGetToken(clientId, rotated.body?.client_secret as string), clientId).toBe(true);
            // The old secret is retired once the answer left (two-secrets IdPs: just after it).
            await expect.poll(() => target.canGetToken(clientId, clientSecret), { message: clientId, timeout: 10_000 }).toBe(false);
            expect((await call(bridge, 'DELETE', `/${encodeURIComponent(clientId)}`)).status).toBe(204);
          }),
        );
        expect(await target.countClients(), context).toBe(baseline + orphans);
      }
      faults?.injectFaults(undefined);
    },
  );
});
