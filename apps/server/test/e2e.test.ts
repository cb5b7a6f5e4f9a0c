import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { konnectApplication, konnectEvent } from '@dcr-bridge/conformance';
import { runBridgeProcess, type BridgeProcess } from './process.js';

/** The real `dcr-bridge` process in dev mode, driven over HTTP the way Konnect drives it. */
const apiKey = 'e2e_api_key_0123456789';
let bridge: BridgeProcess;
const processes: BridgeProcess[] = [];

async function start(env: Record<string, string>, options?: Parameters<typeof runBridgeProcess>[1]): Promise<BridgeProcess> {
  const started = await runBridgeProcess(env, options);
  processes.push(started);
  return started;
}

async function call(method: string, path: string, body?: unknown, key: string | null = apiKey) {
  const res = await fetch(`${bridge.url}/v1/dcr${path}`, {
    method,
    headers: { ...(key ? { 'x-api-key': key } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function canGetToken(clientId: string, clientSecret: string): Promise<boolean> {
  const issuer = `${bridge.url}/dev-idp`;
  const config = new oidc.Configuration(
    { issuer, token_endpoint: `${issuer}/token` },
    clientId,
    undefined,
    oidc.ClientSecretPost(clientSecret),
  );
  oidc.allowInsecureRequests(config);
  try {
    return typeof (await oidc.clientCredentialsGrant(config)).access_token === 'string';
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_client') return false;
    throw error;
  }
}

beforeAll(async () => {
  bridge = await start({ DCR_BRIDGE_API_KEYS: apiKey, DCR_BRIDGE_BASE_PATH: '/v1/dcr' });
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
});

describe('dcr-bridge process, dev mode', () => {
  it('walks the Konnect flow: create, token, rotate, update, delete', async () => {
    expect((await fetch(`${bridge.url}/readyz`)).status).toBe(200);
    const created = await call('POST', '/', konnectApplication());
    expect(created.status).toBe(201);
    const { client_id: clientId, client_secret: firstSecret } = created.body;
    expect(await canGetToken(clientId, firstSecret)).toBe(true);

    const rotated = await call('POST', `/${clientId}/new-secret`);
    expect(rotated.status).toBe(200);
    expect(await canGetToken(clientId, firstSecret)).toBe(false);
    expect(await canGetToken(clientId, rotated.body.client_secret)).toBe(true);

    const updated = await call(
      'POST',
      `/${clientId}/event-hook`,
      konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/new'] }),
    );
    expect(updated.status).toBe(200);
    expect(await canGetToken(clientId, rotated.body.client_secret)).toBe(true);

    expect((await call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(await canGetToken(clientId, rotated.body.client_secret)).toBe(false);
    expect((await call('DELETE', `/${clientId}`)).status).toBe(204);
  });

  it('refuses a wrong API key with 401 and serves nothing outside the base path', async () => {
    const refused = await call('POST', '/', konnectApplication(), 'wrong_key_0123456789');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('unauthorized');
    expect((await fetch(`${bridge.url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('prints the dev mode banner with a warning but never the key it was given, and logs JSON without secrets', async () => {
    expect(bridge.stderr()).toContain('NOT FOR PRODUCTION');
    expect(bridge.stderr()).toContain('a key of DCR_BRIDGE_API_KEYS (not printed)');
    expect(bridge.stderr()).not.toContain(apiKey);
    // oidc-provider's warning about Node lines before 22 is not the operator's concern: dev mode runs on every supported line.
    expect(bridge.stderr()).not.toContain('Unsupported runtime');
    // Every stdout line is a JSON log line, but for oidc-provider's own notices about the dev IdP.
    const raw = bridge.stdout().trim().split('\n');
    expect(raw.filter((line) => !line.startsWith('{') && !line.startsWith('oidc-provider '))).toEqual([]);
    const lines = raw.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((line) => line.msg === 'request' && line.status === 201)).toBe(true);
    expect(bridge.stdout()).not.toContain(apiKey);
    expect(bridge.stdout()).not.toMatch(/client_secret"\s*:\s*"[^[]/);
  });
});

describe('dcr-bridge process lifecycle', () => {
  it('exits 0 on SIGTERM after draining', async () => {
    const short = await start({ DCR_BRIDGE_API_KEYS: apiKey });
    expect((await fetch(`${short.url}/healthz`)).status).toBe(200);
    expect(await short.stop('SIGTERM')).toBe(0);
    expect(short.stdout()).toContain('"msg":"stopped"');
  });

  it('exits 1 listing every configuration problem at once', async () => {
    const broken = await start({ DCR_BRIDGE_ADAPTER: 'rfc7591', DCR_BRIDGE_API_KEYS: 'bad', PORT: 'x' }, { waitForListening: false });
    expect(await broken.exited).toBe(1);
    expect(broken.stderr()).toContain('dcr-bridge cannot start; fix these settings:');
    expect(broken.stderr()).toContain('DCR_BRIDGE_API_KEYS: key #1');
    expect(broken.stderr()).toContain('Set RFC7591_ISSUER (discovery) or RFC7591_REGISTRATION_ENDPOINT.');
    expect(broken.stderr()).toContain('PORT must be a whole number');
  });

  it('exits 1 saying how to make a store key when the adapter needs the store', async () => {
    const noKey = await start(
      { DCR_BRIDGE_ADAPTER: 'rfc7591', DCR_BRIDGE_API_KEYS: apiKey, RFC7591_ISSUER: 'https://idp.example.com' },
      { waitForListening: false },
    );
    expect(await noKey.exited).toBe(1);
    expect(noKey.stderr()).toContain('openssl rand -base64 32');
  });
});
