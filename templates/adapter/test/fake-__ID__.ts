import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type FakeIdpKit } from '@dcr-bridge/conformance';

/**
 * A fake of __DISPLAY__'s admin API and token endpoint. Scaffolding from templates/adapter: the API below is
 * a made-up stand-in. Rewrite it from __DISPLAY__'s documentation with its real quirks (status codes, error
 * bodies, what a write keeps or replaces, how names are searched) and say here where each one comes from.
 * - every admin request needs `Authorization: Bearer <api token>`, else 401 `{error, message}`;
 * - `POST /admin/clients` creates a client without a secret and answers 201 with it (the IdP picks `id`);
 *   `POST /admin/clients/{id}/secret` issues a new secret, and the previous one stops working;
 * - `GET /admin/clients?name=` returns the clients whose name contains the value (not an exact match);
 * - `PUT /admin/clients/{id}/redirect_uris` replaces the redirect URIs and nothing else;
 * - unknown ids answer 404 `{error: "not_found", message}`; scopes must exist (`GET /admin/scopes`);
 * - `POST /oauth/token` serves client_credentials to clients that have the grant and a secret.
 */
export interface FakeClient {
  id: string;
  name: string;
  description: string;
  redirect_uris: string[];
  grant_types: string[];
  scopes: string[];
  metadata: Record<string, string>;
}

export interface Fake__PASCAL__ {
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  url: string;
  apiToken: string;
  /** `METHOD /path?query` of every request, in arrival order. */
  requests: string[];
  /** The next request matching method and path answers this status and body, once. */
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  client(clientId: string): FakeClient | undefined;
  clientCount(): number;
  /** Sets a metadata entry of a client directly, as an administrator would in the console. */
  setMetadata(clientId: string, key: string, value: string): void;
  /** Creates a client directly, as an administrator would in the console (no bridge marker); returns its id. */
  createForeignClient(name?: string): string;
  /** client_credentials at the token endpoint: whether a token is issued. */
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startFake__PASCAL__(): Promise<Fake__PASCAL__> {
  const apiToken = randomBytes(24).toString('base64url');
  const clients = new Map<string, FakeClient>();
  const secrets = new Map<string, string>();
  const scopes = ['read:orders', 'write:orders'];
  const kit = createFakeIdpKit();
  const newId = () => randomBytes(8).toString('hex');

  const app = express();
  app.use(kit.middleware);

  app.post('/oauth/token', express.urlencoded({ extended: false }), (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret } = clientCredentials(req.get('authorization'), form);
    if (form.grant_type !== 'client_credentials') return res.status(400).json({ error: 'unsupported_grant_type' });
    const client = clients.get(clientId);
    if (!client || secrets.get(clientId) !== clientSecret) return res.status(401).json({ error: 'invalid_client' });
    if (!client.grant_types.includes('client_credentials')) return res.status(400).json({ error: 'unauthorized_client' });
    res.json({ access_token: randomBytes(24).toString('base64url'), token_type: 'Bearer', expires_in: 3600 });
  });

  const requireAdmin = (req: Request, res: Response, next: NextFunction) => {
    if (req.get('authorization') !== `Bearer ${apiToken}`)
      return void res.status(401).json({ error: 'unauthorized', message: 'A valid API token is required.' });
    next();
  };
  const admin = express.Router();
  app.use('/admin', requireAdmin, express.json(), admin);
  const byId = (req: Request, res: Response): FakeClient | undefined => {
    const client = clients.get(String(req.params.id));
    if (!client) res.status(404).json({ error: 'not_found', message: `No client ${String(req.params.id)}.` });
    return client;
  };

  admin.get('/scopes', (_req, res) => void res.json(scopes.map((name) => ({ name }))));
  admin.get('/clients', (req, res) => {
    const name = typeof req.query.name === 'string' ? req.query.name : '';
    const limit = Number(req.query.limit ?? 100);
    res.json([...clients.values()].filter((client) => client.name.includes(name)).slice(0, limit));
  });
  admin.post('/clients', (req, res) => {
    const body = req.body as Partial<FakeClient>;
    if (typeof body.name !== 'string' || body.name === '')
      return res.status(400).json({ error: 'invalid_request', message: 'name: required.' });
    const unknown = (body.scopes ?? []).filter((scope) => !scopes.includes(scope));
    if (unknown.length > 0) return res.status(400).json({ error: 'invalid_request', message: `scopes: unknown ${unknown.join(', ')}.` });
    const client: FakeClient = {
      id: newId(),
      name: body.name,
      description: body.description ?? '',
      redirect_uris: body.redirect_uris ?? [],
      grant_types: body.grant_types ?? [],
      scopes: body.scopes ?? [],
      metadata: body.metadata ?? {},
    };
    clients.set(client.id, client);
    res.status(201).json(client);
  });
  admin.get('/clients/:id', (req, res) => {
    const client = byId(req, res);
    if (client) res.json(client);
  });
  admin.post('/clients/:id/secret', (req, res) => {
    const client = byId(req, res);
    if (!client) return;
    const secret = randomBytes(32).toString('base64url');
    secrets.set(client.id, secret);
    res.json({ secret });
  });
  admin.put('/clients/:id/redirect_uris', (req, res) => {
    const client = byId(req, res);
    if (!client) return;
    const { redirect_uris } = req.body as { redirect_uris?: unknown };
    if (!Array.isArray(redirect_uris)) return res.status(400).json({ error: 'invalid_request', message: 'redirect_uris: must be a list.' });
    client.redirect_uris = redirect_uris as string[];
    res.json(client);
  });
  admin.delete('/clients/:id', (req, res) => {
    if (!byId(req, res)) return;
    clients.delete(String(req.params.id));
    secrets.delete(String(req.params.id));
    res.status(204).end();
  });

  const server = await listenOnLoopback(app);
  return {
    url: server.origin,
    apiToken,
    requests: kit.requests,
    faults: kit,
    failNext: kit.failNext,
    client: (clientId) => clients.get(clientId),
    clientCount: () => clients.size,
    setMetadata(clientId, key, value) {
      const client = clients.get(clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      client.metadata = { ...client.metadata, [key]: value };
    },
    createForeignClient(name = 'Made in the admin console') {
      const id = newId();
      clients.set(id, {
        id,
        name,
        description: '',
        redirect_uris: ['https://foreign.example.com/cb'],
        grant_types: ['client_credentials'],
        scopes: [],
        metadata: {},
      });
      secrets.set(id, 'foreign-secret');
      return id;
    },
    async clientCredentials(clientId, clientSecret) {
      const res = await fetch(`${server.origin}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      });
      return res.ok;
    },
    close: server.close,
  };
}
