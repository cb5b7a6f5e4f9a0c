import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@dcr-bridge/core';
import { loadConfig, startServer, type RunningServer } from '../src/index.js';
import { idpTargets, type IdpTarget } from './idp-targets.js';

/**
 * The canary (DCR_BRIDGE_CANARY_INTERVAL) against an Okta org that breaks mid-way: its secret endpoint starts
 * failing, then heals. The metric and readiness follow, and no probe client is left behind either way.
 */
const apiKey = 'canary_api_key_0123456789';

describe('the canary', () => {
  let target: IdpTarget;
  let server: RunningServer;
  beforeAll(async () => {
    target = await idpTargets.okta();
    const { config, problems } = await loadConfig({
      ...target.env,
      DCR_BRIDGE_API_KEYS: apiKey,
      PORT: '0',
      HOST: '127.0.0.1',
      DCR_BRIDGE_CANARY_INTERVAL: '1s',
      DCR_BRIDGE_CANARY_READINESS: 'true',
      DCR_BRIDGE_COMPLETION_TIMEOUT_MS: '3000',
    });
    expect(problems).toEqual([]);
    server = await startServer(config!, { logger: silentLogger, printBanner: () => undefined });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    target?.faults?.injectFaults(undefined);
    await target?.close();
  });

  const metric = async (name: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const readiness = async () => {
    const res = await fetch(`${server.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
  };

  it('passes, fails while the IdP breaks (metric 0, readiness canary_failing), passes again once it heals, and leaves no probe behind', async () => {
    const clients = await target.countClients();
    await expect.poll(() => metric('dcr_bridge_canary_success'), { timeout: 15_000, interval: 250 }).toBe(1);
    expect(await metric('dcr_bridge_canary_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect((await readiness()).status).toBe(200);

    // The org starts refusing to add client secrets: every rotation fails.
    target.faults?.injectFaults({
      rate: 1,
      kinds: ['error_500'],
      match: (method, path) => method === 'POST' && /\/credentials\/secrets$/.test(path),
    });
    await expect.poll(() => metric('dcr_bridge_canary_success'), { timeout: 15_000, interval: 250 }).toBe(0);
    expect(await readiness()).toEqual({ status: 503, body: { status: 'not_ready', reason: 'canary_failing' } });

    target.faults?.injectFaults(undefined);
    await expect.poll(() => metric('dcr_bridge_canary_success'), { timeout: 15_000, interval: 250 }).toBe(1);
    expect((await readiness()).status).toBe(200);
    await expect.poll(() => target.countClients(), { timeout: 10_000 }).toBe(clients);
    expect(await metric('dcr_bridge_canary_runs_total{result="fail"}')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
