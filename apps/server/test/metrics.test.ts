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
    // The dev IdP's registration endpoint, and the client's own registration URI: URLs the IdP handed out, measured by
    // the route the rfc7591 adapter names for them, never by the URI with its id.
    expect(text).toMatch(/dcr_bridge_idp_requests_total\{idp="[^"]+",method="POST",route="\{registration_endpoint\}",status="201"\} 1/);
    expect(text).toMatch(/dcr_bridge_idp_requests_total\{idp="[^"]+",method="PUT",route="\{registration_client_uri\}",status="200"\} 1/);
    expect(text).not.toMatch(/dcr_bridge_idp_requests_total\{[^}]*route="other"/);
    expect(text).toContain('dcr_bridge_http_requests_total{method="POST",route="/",status="201",outcome="success"} 1');
    expect(text).toMatch(/dcr_bridge_store_operations_total\{store="json",operation="set",result="ok"\} \d+/);
    expect(text).toContain('process_cpu_user_seconds_total');
    for (const value of [created.client_id, created.client_secret, apiKey]) expect(text).not.toContain(value);
  });

  it('counts every answer, those refused before the adapter too (a stale API key, a wrong content type), by route and status', async () => {
    const server = await start({});
    // Before any request, Konnect's calls refused for their key are at 0 (so that increase() sees the first one).
    const before = await (await fetch(`${server.url}/metrics`)).text();
    expect(before).toContain('dcr_bridge_http_requests_total{method="DELETE",route="/{clientId}",status="401",outcome="unauthorized"} 0');
    const stale = { 'x-api-key': 'stale_key_before_rotation_0123', 'content-type': 'application/json' };
    expect((await fetch(`${server.url}/`, { method: 'POST', headers: stale, body: JSON.stringify(konnectApplication()) })).status).toBe(
      401,
    );
    expect((await fetch(`${server.url}/some-client-id/new-secret`, { method: 'POST', headers: stale })).status).toBe(401);
    const plain = { 'x-api-key': apiKey, 'content-type': 'text/plain' };
    expect((await fetch(`${server.url}/`, { method: 'POST', headers: plain, body: 'not json' })).status).toBe(415);
    expect((await fetch(`${server.url}/some-client-id/lost/path`, { method: 'GET', headers })).status).toBe(404);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('dcr_bridge_http_requests_total{method="POST",route="/",status="401",outcome="unauthorized"} 1');
    expect(text).toContain(
      'dcr_bridge_http_requests_total{method="POST",route="/{clientId}/new-secret",status="401",outcome="unauthorized"} 1',
    );
    expect(text).toContain('dcr_bridge_http_requests_total{method="POST",route="/",status="415",outcome="unsupported_media_type"} 1');
    expect(text).toContain('dcr_bridge_http_requests_total{method="GET",route="other",status="404",outcome="not_found"} 1');
    expect(text).toMatch(/dcr_bridge_http_request_duration_seconds_count\{method="POST",route="\/"\} 2/);
    // Refused before the adapter: no operation reached it.
    expect(text).not.toMatch(/^dcr_bridge_operations_total\{/m);
    expect(text).not.toContain('some-client-id');
    expect(text).not.toContain('stale_key_before_rotation_0123');
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
