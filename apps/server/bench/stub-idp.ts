import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal in-memory RFC 7591/7592 IdP for the benchmark: as fast as an IdP can be, so that what the
 * benchmark measures on top of it is the bridge. Prints its port on stdout, then serves until killed.
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

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://stub');
  const base = `http://${req.headers.host}`;
  if (req.method === 'POST' && url.pathname === '/reg') {
    const metadata = await readJson(req);
    const id = random();
    const client: Client = { metadata, secret: random(), token: random() };
    clients.set(id, client);
    return send(res, 201, { ...metadata, client_id: id, client_secret: client.secret, client_id_issued_at: Math.floor(Date.now() / 1000), client_secret_expires_at: 0, registration_access_token: client.token, registration_client_uri: `${base}/reg/${id}` });
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
    return send(res, 200, { ...client.metadata, client_id: id, client_secret: client.secret, registration_access_token: client.token, registration_client_uri: `${base}/reg/${id}` });
  }
  if (req.method === 'DELETE') {
    clients.delete(id);
    return send(res, 204);
  }
  send(res, 405);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
