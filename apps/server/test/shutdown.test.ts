import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_PREFIX, createJsonStore } from '@dcr-bridge/core';
import { konnectApplication } from '@dcr-bridge/conformance';
import { openJournalFile } from '../src/journal-file.js';
import { idpTargets, type AdapterId, type IdpTarget } from './idp-targets.js';
import { logLines, waitForLine } from './konnect-calls.js';
import { runBridgeProcess, type BridgeProcess } from './process.js';

/**
 * A prompt stop: SIGTERM while the IdP hangs. Background work (recovery of what a previous process left
 * open) is aborted and left to the journal; an in-flight Konnect request still gets its answer (504 at its
 * deadline) and the process exits 0 within 2 s of that answer, whatever the IdP does.
 */
const apiKey = 'shutdown_test_api_key_0123456789';
// The process's own bound, measured from SIGTERM (nothing in flight) or from the last Konnect answer.
const PROMPT_MS = 2_000;
const OPERATION_TIMEOUT_MS = 2_000;

// The adapters on core's HTTP client and Cognito's SDK; rfc7591's recovery reads its store before the IdP.
const ADAPTERS: AdapterId[] = ['keycloak', 'okta', 'pingone', 'pingfederate', 'cognito'];

describe.each(ADAPTERS)('%s: SIGTERM while the IdP hangs', (id) => {
  let target: IdpTarget;
  let dir: string;
  const processes: BridgeProcess[] = [];

  beforeAll(async () => {
    target = await idpTargets[id]();
    dir = mkdtempSync(join(tmpdir(), `dcr-shutdown-${id}-`));
  });
  afterEach(async () => {
    await Promise.allSettled(processes.splice(0).map((bridge) => bridge.stop('SIGKILL')));
    target.faults?.injectFaults(undefined);
    await target.faults?.settle();
  });
  afterAll(async () => {
    try {
      await target?.close();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  async function start(journal: string): Promise<BridgeProcess> {
    const bridge = await runBridgeProcess({
      ...target.env,
      DCR_BRIDGE_API_KEYS: apiKey,
      DCR_BRIDGE_JOURNAL: journal,
      DCR_BRIDGE_STORE: `${journal}.sqlite`,
      DCR_BRIDGE_OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS),
      DCR_BRIDGE_COMPLETION_TIMEOUT_MS: '30000',
      DCR_BRIDGE_SHUTDOWN_TIMEOUT_MS: '10000',
    });
    processes.push(bridge);
    return bridge;
  }

  /** Every IdP request from now on hangs (no answer until the caller gives up), token requests included. */
  function hangEverything(): number {
    const before = target.faults?.faults.length ?? 0;
    target.faults?.injectFaults({ rate: 1, kinds: ['hang'] });
    return before;
  }

  async function waitForHang(since: number): Promise<void> {
    const until = Date.now() + 15_000;
    while ((target.faults?.faults.length ?? 0) <= since) {
      if (Date.now() > until) throw new Error('the bridge sent the IdP nothing');
      await sleep(20);
    }
    // Let the hung request settle in as what the bridge waits on.
    await sleep(200);
  }

  it('a background recovery stuck on the IdP: exit 0 within 2 s, the open create left in the journal', { timeout: 60_000 }, async (ctx) => {
    const journal = join(dir, 'recovery.journal');
    // What a process killed mid-create leaves: a client the IdP holds, not yet answered to Konnect.
    const entry = {
      nonce: 'k7q2m9x4',
      clientName: 'Killed mid-create',
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      // A client id every IdP here could have (Cognito's are [\w+]: an id it cannot have gets no call at all).
      clientId: 'cleftopen1234567890abcdef',
    };
    const driver = await openJournalFile(journal);
    await createJsonStore(driver).set(`${JOURNAL_PREFIX}${entry.nonce}`, entry);
    await driver.close();

    const since = hangEverything();
    const bridge = await start(journal);
    await waitForLine(bridge, 'finishing creates a previous process left open', 15_000);
    await waitForHang(since);

    const signalled = performance.now();
    bridge.child.kill('SIGTERM');
    const code = await bridge.exited;
    const exitMs = Math.round(performance.now() - signalled);
    ctx.annotate(`${id} recovery: exit ${code} ${exitMs} ms after SIGTERM`);
    expect({ code, exitMs }, bridge.stdout().slice(-3000)).toEqual({ code: 0, exitMs: expect.any(Number) });
    expect(exitMs, bridge.stdout().slice(-3000)).toBeLessThan(PROMPT_MS);
    expect(logLines(bridge).some((line) => line.msg === 'stopped')).toBe(true);
    expect(logLines(bridge).some((line) => line.msg.startsWith('the adapter did not close in time'))).toBe(false);

    // Left to the journal: the next start finds the entry still open.
    const reopened = await openJournalFile(journal);
    try {
      expect(await createJsonStore(reopened).get(`${JOURNAL_PREFIX}${entry.nonce}`)).toMatchObject({ clientId: entry.clientId });
    } finally {
      await reopened.close();
    }
  });

  it('an in-flight create hung at the IdP: Konnect gets its answer, then exit 0 within 2 s', { timeout: 60_000 }, async (ctx) => {
    const bridge = await start(join(dir, 'in-flight.journal'));
    const since = hangEverything();
    const sent = performance.now();
    const answer = fetch(`${bridge.url}/`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(konnectApplication(target.application)),
    }).then(async (res) => ({ status: res.status, at: performance.now(), body: await res.text() }));
    await waitForHang(since);

    bridge.child.kill('SIGTERM');
    const answered = await answer;
    const code = await bridge.exited;
    const exitedAt = performance.now();
    const figures = { code, answeredAfterMs: Math.round(answered.at - sent), exitAfterAnswerMs: Math.round(exitedAt - answered.at) };
    ctx.annotate(`${id} in-flight: ${JSON.stringify(figures)}`);
    const context = `${JSON.stringify(figures)}\n${bridge.stdout().slice(-3000)}`;
    // Core answers at Konnect's deadline, as without the signal.
    expect(answered.status, answered.body).toBe(504);
    expect(figures.answeredAfterMs, context).toBeLessThan(OPERATION_TIMEOUT_MS + 1_500);
    expect(code, context).toBe(0);
    expect(figures.exitAfterAnswerMs, context).toBeLessThan(PROMPT_MS);
    // Stopped by aborting what hung, not by abandoning it at the close limit, nor at the end of the grace period.
    const shutdownWarnings = logLines(bridge).filter(
      (line) => line.msg.startsWith('the adapter did not close in time') || line.msg.startsWith('grace period over'),
    );
    expect(shutdownWarnings, context).toEqual([]);
  });
});

describe('SIGTERM as soon as the server says it listens', () => {
  it("is handled (drain, exit 0), not met by the signal's default action", { timeout: 90_000 }, async () => {
    const codes: Array<number | null> = [];
    for (let round = 0; round < 6; round++) {
      // Dev mode: nothing outside the process. The signal goes out the moment the `listening` line arrives.
      const bridge = await runBridgeProcess({ DCR_BRIDGE_API_KEYS: apiKey });
      bridge.child.kill('SIGTERM');
      codes.push(await bridge.exited);
    }
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
