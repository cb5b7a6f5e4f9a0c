import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { konnectApplication, konnectEvent } from '@dcr-bridge/conformance';
import { startTestPostgres } from '../../../packages/store-postgres/test/postgres-server.js';
import { idpTargets, type AdapterId, type IdpTarget } from './idp-targets.js';
import { call as callBridge, konnectLoad, logLines, waitForLine } from './konnect-calls.js';
import { runBridgeProcess, type BridgeProcess } from './process.js';

/**
 * Two real bridge processes on one PostgreSQL store (a real server, started by the test): the Konnect flow
 * alternately through both, concurrent operations on one client through both, and one replica killed with
 * SIGKILL under load while the other carries on and finishes the dead one's open creates. rfc7591 keeps its
 * per-client records in the store; keycloak keeps none, and shares only the journal and its locks.
 */
const apiKey = 'replica_test_api_key_0123456789';
// A create may be under way for the completion budget, never shorter than the operation timeout: the survivor
// finishes a dead replica's creates once they are IN_FLIGHT_MS old, sweeping this often.
const COMPLETION_TIMEOUT_MS = 1_500;
const OPERATION_TIMEOUT_MS = 9_000;
const IN_FLIGHT_MS = Math.max(COMPLETION_TIMEOUT_MS, OPERATION_TIMEOUT_MS);
const SWEPT = 'finished creates another process left open';
// Longer than two sweeps at DCR_BRIDGE_COMPLETION_TIMEOUT_MS, well within the operation timeout.
const LATE_ANSWER_MS = 3_500;
const timeouts = {
  DCR_BRIDGE_COMPLETION_TIMEOUT_MS: String(COMPLETION_TIMEOUT_MS),
  DCR_BRIDGE_OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS),
};

describe.each(['rfc7591', 'keycloak'] as AdapterId[])('%s: two replicas on one PostgreSQL store', (id) => {
  let target: IdpTarget;
  let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
  let dir: string;
  const processes: BridgeProcess[] = [];
  let a: BridgeProcess;
  let b: BridgeProcess;
  let env: Record<string, string>;

  const start = async () => {
    const bridge = await runBridgeProcess(env);
    processes.push(bridge);
    return bridge;
  };
  const call = (bridge: BridgeProcess, method: string, path: string, body?: unknown) => callBridge(bridge, apiKey, method, path, body);
  const create = async (bridge: BridgeProcess) => {
    const created = await call(bridge, 'POST', '/', konnectApplication(target.application));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { clientId: created.body?.client_id as string, clientSecret: created.body?.client_secret as string };
  };
  const at = (clientId: string, suffix = '') => `/${encodeURIComponent(clientId)}${suffix}`;

  beforeAll(async () => {
    // A database of each adapter's own: a store's journal belongs to one IdP.
    [target, postgres] = await Promise.all([idpTargets[id](), startTestPostgres()]);
    dir = mkdtempSync(join(tmpdir(), `dcr-replicas-${id}-`));
    env = {
      ...target.env,
      DCR_BRIDGE_API_KEYS: apiKey,
      DCR_BRIDGE_STORE: postgres.url,
      ...timeouts,
      // Not used with PostgreSQL (the journal is in the database); set to prove no replica writes it.
      DCR_BRIDGE_JOURNAL: join(dir, 'unused.journal'),
    };
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(processes.map((bridge) => bridge.stop('SIGKILL')));
    try {
      target?.faults?.injectFaults(undefined);
      await target?.faults?.settle();
      await target?.close();
      await postgres?.stop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the Konnect flow alternately through both: create on A, rotate on B, update on A, delete on B', async () => {
    const { clientId, clientSecret } = await create(a);
    expect(await target.canGetToken(clientId, clientSecret)).toBe(true);
    const rotated = await call(b, 'POST', at(clientId, '/new-secret'));
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(await target.canGetToken(clientId, rotated.body?.client_secret as string)).toBe(true);
    expect(await target.canGetToken(clientId, clientSecret)).toBe(false);
    expect(
      (
        await call(
          a,
          'POST',
          at(clientId, '/event-hook'),
          konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://replica.example.com/cb'] }),
        )
      ).status,
    ).toBe(200);
    expect((await call(b, 'DELETE', at(clientId))).status).toBe(204);
    expect(await target.clientExists(clientId)).toBe(false);
    expect((await call(a, 'POST', at(clientId, '/new-secret'))).status).toBe(404);
    expect(existsSync(env.DCR_BRIDGE_JOURNAL as string)).toBe(false);
  });

  it('leaves alone a create the other replica is still answering: one that outlasts the sweep interval but not the operation timeout keeps its client', async () => {
    const faults = target.faults;
    expect(faults, 'the IdP fake injects faults').toBeDefined();
    const { method, path } = target.createPath;
    // The IdP creates the client at once and answers late: A's create is under way for more than twice
    // DCR_BRIDGE_COMPLETION_TIMEOUT_MS, yet answered within the operation timeout. B sweeps the shared journal
    // meanwhile and must leave it to A (it used to take it for a dead replica's and delete the client).
    faults?.injectFaults({
      rate: 1,
      kinds: ['processed_answer_late'],
      delayMs: [LATE_ANSWER_MS, LATE_ANSWER_MS],
      match: (m, p) => m === method && path.test(p),
    });
    let created: { clientId: string; clientSecret: string };
    try {
      created = await create(a);
    } finally {
      faults?.injectFaults(undefined);
      await faults?.settle();
    }
    const { clientId, clientSecret } = created;
    // Whatever B's sweep started meanwhile has finished: what Konnect got a 201 for stays, and works through both replicas.
    await sleep(COMPLETION_TIMEOUT_MS);
    expect(await target.clientExists(clientId), 'the client Konnect holds still exists').toBe(true);
    expect(await target.canGetToken(clientId, clientSecret)).toBe(true);
    const updated = await call(
      a,
      'POST',
      at(clientId, '/event-hook'),
      konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://late.example.com/cb'] }),
    );
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect((await call(b, 'DELETE', at(clientId))).status).toBe(204);
  });

  it('runs concurrent operations on one client through both replicas one at a time: one consistent record, one working secret', async () => {
    const { clientId } = await create(a);
    // Every change the IdP receives takes DELAY_MS: five operations, one at a time, take at least five times
    // that. Run side by side (each replica queuing only its own), they would take about three.
    const DELAY_MS = 400;
    const { method, path } = target.createPath;
    target.faults?.injectFaults({
      rate: 1,
      kinds: ['held_then_processed'],
      delayMs: [DELAY_MS, DELAY_MS],
      match: (m, p) => m !== 'GET' && !(m === method && path.test(p)) && !/token/.test(p),
    });
    const started = performance.now();
    const answers = await Promise.all([
      call(a, 'POST', at(clientId, '/new-secret')),
      call(b, 'POST', at(clientId, '/new-secret')),
      call(
        a,
        'POST',
        at(clientId, '/event-hook'),
        konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://a.example.com/cb'] }),
      ),
      call(b, 'POST', at(clientId, '/new-secret')),
      call(
        b,
        'POST',
        at(clientId, '/event-hook'),
        konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://b.example.com/cb'] }),
      ),
    ]);
    const elapsedMs = performance.now() - started;
    target.faults?.injectFaults(undefined);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(elapsedMs).toBeGreaterThanOrEqual(5 * DELAY_MS);
    const secrets = [answers[0], answers[1], answers[3]].map((answer) => answer.body?.client_secret as string);
    const working = await Promise.all(secrets.map((secret) => target.canGetToken(clientId, secret)));
    expect(working.filter(Boolean)).toHaveLength(1);
    // The record both replicas wrote is whole: each can go on rotating and deleting the client.
    const again = await call(b, 'POST', at(clientId, '/new-secret'));
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(await target.canGetToken(clientId, again.body?.client_secret as string)).toBe(true);
    expect((await call(a, 'DELETE', at(clientId))).status).toBe(204);
    expect(await target.clientExists(clientId)).toBe(false);
  });

  it(
    'carries on when a replica is killed under load, and finishes the dead one’s open creates without a restart',
    { timeout: 90_000 },
    async (ctx) => {
      const baseline = await target.countClients();
      const { method, path } = target.createPath;
      // Slow creates that complete at the IdP even after the caller has gone.
      target.faults?.injectFaults({
        rate: 1,
        kinds: ['held_then_processed'],
        delayMs: [100, 600],
        match: (m, p) => m === method && path.test(p),
      });
      const onA = konnectLoad(a, apiKey, target.application, 6);
      const onB = konnectLoad(b, apiKey, target.application, 2);
      const loadUntil = performance.now() + 20_000;
      await sleep(1_000);
      while (onA.answered() < 3 && performance.now() < loadUntil) await sleep(50);
      const inFlightAtKill = onA.stop();
      a.child.kill('SIGKILL');
      await a.exited;
      // B goes on serving while A is gone.
      await sleep(500);
      onB.stop();
      const [fromA, fromB] = await Promise.all([onA.done(), onB.done()]);
      target.faults?.injectFaults(undefined);
      await target.faults?.settle();
      expect(
        fromB.statuses.every((status) => status === 201),
        fromB.statuses.join(','),
      ).toBe(true);
      expect(inFlightAtKill).toBeGreaterThan(0);

      await waitForLine(b, SWEPT, 3 * IN_FLIGHT_MS + 5_000);
      const held = [...fromA.held, ...fromB.held];
      // Each sweep takes the entries old enough by then; the allowance: creates whose answer was leaving (kept,
      // logged for an operator) and, where the IdP cannot be searched (rfc7591), creates whose client id was
      // never journaled (logged with their nonce).
      const allowance = () => {
        const lines = logLines(b);
        const kept = lines.filter((line) => String(line.msg).startsWith('a create was answering Konnect')).length;
        const unresolved = lines.filter((line) => line.msg === SWEPT).reduce((sum, line) => sum + Number(line.unresolved ?? 0), 0);
        return { kept, unresolved };
      };
      const orphans = async () => (await target.countClients()) - baseline - held.length;
      await expect
        .poll(
          async () => {
            const { kept, unresolved } = allowance();
            return (await orphans()) <= kept + unresolved;
          },
          { timeout: 20_000, interval: 250 },
        )
        .toBe(true);
      const exists = await Promise.all(held.map((client) => target.clientExists(client.clientId)));
      const { kept, unresolved } = allowance();
      ctx.annotate(
        `${id} ${JSON.stringify({ heldFromA: fromA.held.length, heldFromB: fromB.held.length, inFlightAtKill, kept, unresolved, orphans: await orphans() })}`,
      );
      // Nothing Konnect got a 201 for was deleted, from either replica.
      expect(exists.every(Boolean)).toBe(true);
      if (!target.listClients) expect(unresolved).toBe(0);

      // What Konnect holds from the dead replica works through the survivor: its secret, a rotation, a delete.
      await Promise.all(
        fromA.held.map(async ({ clientId, clientSecret }) => {
          expect(await target.canGetToken(clientId, clientSecret), clientId).toBe(true);
          const rotated = await call(b, 'POST', at(clientId, '/new-secret'));
          expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
          expect(await target.canGetToken(clientId, rotated.body?.client_secret as string), clientId).toBe(true);
          expect((await call(b, 'DELETE', at(clientId))).status).toBe(204);
        }),
      );
    },
  );
});

describe('okta: a rotation overlap on two replicas', () => {
  const OVERLAP_MS = 2_000;
  let target: IdpTarget;
  let postgres: Awaited<ReturnType<typeof startTestPostgres>>;
  const processes: BridgeProcess[] = [];
  let env: Record<string, string>;
  const start = async () => {
    const bridge = await runBridgeProcess(env);
    processes.push(bridge);
    return bridge;
  };
  const call = (bridge: BridgeProcess, method: string, path: string, body?: unknown) => callBridge(bridge, apiKey, method, path, body);
  /** Polls the IdP until the secret is refused; returns how long after `since` that was. */
  const refusedAfter = async (clientId: string, secret: string, since: number) => {
    while (Date.now() - since < OVERLAP_MS + 4 * IN_FLIGHT_MS + 3_000) {
      if (!(await target.canGetToken(clientId, secret))) return Date.now() - since;
      await sleep(200);
    }
    return Number.POSITIVE_INFINITY;
  };

  beforeAll(async () => {
    [target, postgres] = await Promise.all([idpTargets.okta(), startTestPostgres()]);
    env = {
      ...target.env,
      DCR_BRIDGE_API_KEYS: apiKey,
      DCR_BRIDGE_STORE: postgres.url,
      ...timeouts,
      DCR_BRIDGE_ROTATION_OVERLAP: `${OVERLAP_MS}ms`,
    };
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(processes.map((bridge) => bridge.stop('SIGKILL')));
    await target?.close();
    await postgres?.stop();
  });

  it('old and new secrets both work within the overlap; the old one is retired after it by the other replica when the rotating one was killed, and after a restart', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const created = await call(a, 'POST', '/', konnectApplication(target.application));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const clientId = created.body?.client_id as string;
    const first = created.body?.client_secret as string;

    // Rotated on B, which is killed at once: its timer is gone, and A's sweep of the shared journal retires the old secret.
    const rotated = await call(b, 'POST', `/${encodeURIComponent(clientId)}/new-secret`);
    const rotatedAt = Date.now();
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const second = rotated.body?.client_secret as string;
    // Killed once it has recorded that Konnect took the answer (killed before, both secrets are kept: Konnect may hold either).
    await sleep(500);
    await b.stop('SIGKILL');
    expect(await target.canGetToken(clientId, second), 'the new secret works at once').toBe(true);
    expect(await target.canGetToken(clientId, first), 'the old one works within the overlap').toBe(true);
    const firstRefusedAfter = await refusedAfter(clientId, first, rotatedAt);
    expect(firstRefusedAfter, 'the old one is retired after the overlap, by the surviving replica').toBeGreaterThanOrEqual(
      OVERLAP_MS - 200,
    );
    expect(firstRefusedAfter).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(await target.canGetToken(clientId, second)).toBe(true);

    // Rotated on A, which then restarts: the restarted process retires the old secret when the overlap ends.
    const again = await call(a, 'POST', `/${encodeURIComponent(clientId)}/new-secret`);
    const againAt = Date.now();
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    await a.stop('SIGTERM');
    const restarted = await start();
    expect(await target.canGetToken(clientId, second), 'the previous secret works within the overlap, across the restart').toBe(true);
    const secondRefusedAfter = await refusedAfter(clientId, second, againAt);
    expect(secondRefusedAfter).toBeGreaterThanOrEqual(OVERLAP_MS - 200);
    expect(secondRefusedAfter).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(await target.canGetToken(clientId, again.body?.client_secret as string)).toBe(true);
    expect((await call(restarted, 'DELETE', `/${encodeURIComponent(clientId)}`)).status).toBe(204);
  }, 120_000);
});
