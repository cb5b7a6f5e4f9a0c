import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { konnectApplication, konnectEvent } from '@dcr-bridge/conformance';
import { loadConfig, startServer, type RunningServer } from '../src/index.js';
import { silentLogger } from '@dcr-bridge/core';

const apiKey = 'metrics_api_key_0123456789';
let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(env: Record<string, string>): Promise<RunningServer> {
  const { config, problems } = await loadConfig({ DCR_BRIDGE_API_KEYS: apiKey, PORT: '0', HOST: '127.0.0.1', ...env });
  expect(problems).toEqual([]);
  running = await startServer(config!, { logger: silentLogger, printBanner: () => undefined });
  return running;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' };

describe('/metrics', () => {
  it('counts Konnect operations, IdP calls and store operations without ids, next to the process metrics, without the API key', async () => {
    const server = await start({});
    const created = (await (
      await fetch(`${server.url}/`, { method: 'POST', headers, body: JSON.stringify(konnectApplication()) })
    ).json()) as { client_id: string; client_secret: string };
    await fetch(`${server.url}/${created.client_id}/event-hook`, {
      method: 'POST',
      headers,
      body: JSON.stringify(
        konnectEvent(created.client_id, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb2'] }),
      ),
    });
    await fetch(`${server.url}/never-made`, { method: 'POST', headers: { 'x-api-key': apiKey } });
    await fetch(`${server.url}/never-made/new-secret`, { method: 'POST', headers: { 'x-api-key': apiKey } });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain(
      'dcr_bridge_operations_total{operation="createClient",adapter="rfc7591",outcome="success",status_class="2xx"} 1',
    );
    expect(text).toContain(
      'dcr_bridge_operations_total{operation="applyEvent(update_application)",adapter="rfc7591",outcome="success",status_class="2xx"} 1',
    );
    expect(text).toContain(
      'dcr_bridge_operations_total{operation="rotateSecret",adapter="rfc7591",outcome="not_found",status_class="4xx"} 1',
    );
    expect(text).toMatch(/dcr_bridge_operation_duration_seconds_count\{operation="createClient",adapter="rfc7591"\} 1/);
    // The dev IdP's registration endpoint, and the client's own registration URI with its id taken out.
    expect(text).toMatch(/dcr_bridge_idp_requests_total\{idp="[^"]+",method="POST",route="[^"]*\/reg",status="201"\} 1/);
    expect(text).toMatch(/dcr_bridge_idp_requests_total\{idp="[^"]+",method="PUT",route="[^"]*\/reg\/\{id\}",status="200"\} 1/);
    expect(text).toMatch(/dcr_bridge_store_operations_total\{store="json",operation="set",result="ok"\} \d+/);
    expect(text).toContain('process_cpu_user_seconds_total');
    for (const value of [created.client_id, created.client_secret, apiKey]) expect(text).not.toContain(value);
  });

  it('moves to a port of its own with DCR_BRIDGE_METRICS_PORT, and is gone with DCR_BRIDGE_METRICS=off', async () => {
    const port = await freePort();
    const server = await start({ DCR_BRIDGE_METRICS_PORT: String(port) });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).not.toBe(200);
    await server.close();
    running = undefined;
    const off = await start({ DCR_BRIDGE_METRICS: 'off' });
    expect((await fetch(`${off.url}/metrics`)).status).not.toBe(200);
  });

  it('refuses a setting it does not know', async () => {
    expect((await loadConfig({ DCR_BRIDGE_METRICS: 'maybe' })).problems).toEqual([
      expect.stringContaining('DCR_BRIDGE_METRICS must be one of on, off'),
    ]);
  });
});
