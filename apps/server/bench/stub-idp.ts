import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from '@dcr-bridge/conformance';

/**
 * A minimal in-memory RFC 7591/7592 IdP for the benchmark of the `rfc7591` adapter: as fast as an IdP can
 * be, so that what the benchmark measures on top of it is the bridge. Started by stub.ts.
 */
interface Client {
  metadata: Record<string, unknown>;
  secret: string;
  token: string;
}

const clients = new Map<string, Client>();
const random = () => randomBytes(18).toString('base64url');

function send(res: ServerResponse, status: number, body?: unknown) {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startStubIdp(): Promise<{
  env: Record<string, string>;
  application: Record<string, unknown>;
  requests: () => string[];
  close: () => Promise<void>;
}> {
  const seen: string[] = [];
  const server = await listenOnLoopback((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    void answer(req, res);
  });
  server.server.keepAliveTimeout = 65_000;
  const url = server.origin;
  return {
    env: { DCR_BRIDGE_ADAPTER: 'rfc7591', RFC7591_REGISTRATION_ENDPOINT: `${url}/reg`, RFC7591_ALLOW_INSECURE_HTTP: 'true' },
    application: {},
    requests: () => seen,
    close: server.close,
  };
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://stub');
  const base = `http://${req.headers.host}`;
  if (req.method === 'POST' && url.pathname === '/reg') {
    const metadata = await readJson(req);
    const id = random();
    const client: Client = { metadata, secret: random(), token: random() };
    clients.set(id, client);
    return send(res, 201, {
      ...metadata,
      client_id: id,
      client_secret: client.secret,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      client_secret_expires_at: 0,
      registration_access_token: client.token,
      registration_client_uri: `${base}/reg/${id}`,
    });
  }
  const id = url.pathname.startsWith('/reg/') ? decodeURIComponent(url.pathname.slice(5)) : '';
  const client = clients.get(id);
  if (!client || req.headers.authorization !== `Bearer ${client.token}`) return send(res, 401, { error: 'invalid_token' });
  if (req.method === 'GET') return send(res, 200, { ...client.metadata, client_id: id, client_secret: client.secret });
  if (req.method === 'PUT') {
    const body = await readJson(req);
    if (!('client_secret' in body)) client.secret = random();
    client.metadata = { ...body };
    delete client.metadata.client_secret;
    client.token = random();
    return send(res, 200, {
      ...client.metadata,
      client_id: id,
      client_secret: client.secret,
      registration_access_token: client.token,
      registration_client_uri: `${base}/reg/${id}`,
    });
  }
  if (req.method === 'DELETE') {
    clients.delete(id);
    return send(res, 204);
  }
  send(res, 405);
}
