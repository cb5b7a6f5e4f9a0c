import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type FakeIdpKit } from '@dcr-bridge/conformance';

/**
 * A fake of Okta's OAuth client API, Apps API and token endpoints, written from Okta's documentation
 * (okta-developer-docs: reference/api/oauth-clients, apps, error codes, rate limits, OAuth for Okta):
 * - `/oauth2/v1/clients`: Okta chooses the client_id; unknown clients answer 401 `invalid_client` on
 *   GET/DELETE and 404 E0000007 on lifecycle/newSecret; duplicate client_name answers 400
 *   invalid_client_metadata; PUT needs the full settings and keeps the secret only when the body omits
 *   `client_secret` (a PUT carrying an old secret brings it back);
 * - `GET /oauth2/v1/clients?q=` searches client_name: a case-insensitive starts-with match, exact matches
 *   first; an array of client objects, paged by `limit` (default 200) and the `after` cursor of
 *   the `Link: <…>; rel="next"` header;
 * - `/api/v1/apps/{id}`: an OIDC client is an application with the same id, with a `profile` object;
 *   unknown → 404 E0000007; PUT replaces the application;
 * - management errors `{errorCode, errorSummary, errorLink, errorId, errorCauses}`; a bad token → 401
 *   E0000011; a missing OAuth scope → 403 E0000006;
 * - 429 with X-Rate-Limit-Limit / -Remaining / -Reset (epoch seconds);
 * - the org token endpoint accepts private_key_jwt assertions (aud = the token endpoint URL) verified
 *   with the service app's public key, and the `default` authorization server issues client_credentials
 *   tokens to the clients (service or web apps with that grant).
 */
interface Client {
  settings: Record<string, unknown> & { client_id: string; client_name: string; grant_types: string[] };
  secret: string;
  profile: Record<string, unknown>;
}

export interface FakeOkta {
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  url: string;
  apiToken: string;
  serviceApp: { clientId: string; publicKey: CryptoKey | KeyObject; scopes: string[] };
  requests: string[];
  tokenRequests(): number;
  failNext(method: string, pattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  client(clientId: string): Client | undefined;
  clientCount(): number;
  createForeignClient(): string;
  /** A client made outside the bridge (no marker) with this client_name. */
  createClientNamed(clientName: string): string;
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

let errorIds = 0;
const oktaError = (res: Response, status: number, errorCode: string, errorSummary: string, causes: string[] = []) =>
  void res.status(status).json({ errorCode, errorSummary, errorLink: errorCode, errorId: `oae${(++errorIds).toString().padStart(8, '0')}`, errorCauses: causes.map((summary) => ({ errorSummary: summary })) });

export async function startFakeOkta(serviceApp: { clientId: string; publicKey: CryptoKey | KeyObject; scopes: string[] }): Promise<FakeOkta> {
  const apiToken = `00${randomBytes(20).toString('base64url')}`;
  const clients = new Map<string, Client>();
  const tokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  const kit = createFakeIdpKit();
  let tokenRequests = 0;
  let url = '';

  const app = express();
  app.use(kit.middleware);

  app.post('/oauth2/v1/token', express.urlencoded({ extended: false }), async (req, res) => {
    tokenRequests++;
    const form = req.body as Record<string, string>;
    if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !form.client_assertion) {
      return res.status(401).json({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    }
    try {
      await jwtVerify(form.client_assertion, serviceApp.publicKey, { issuer: serviceApp.clientId, subject: serviceApp.clientId, audience: `${url}/oauth2/v1/token` });
    } catch {
      return res.status(401).json({ error: 'invalid_client', error_description: 'The client_assertion signature is invalid.' });
    }
    const requested = (form.scope ?? '').split(' ').filter(Boolean);
    const denied = requested.filter((scope) => !serviceApp.scopes.includes(scope));
    if (denied.length > 0) return res.status(400).json({ error: 'invalid_scope', error_description: `The following scopes are not allowed: ${denied.join(', ')}` });
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, { scopes: requested, expiresAt: Date.now() + 3_600_000 });
    res.json({ token_type: 'Bearer', expires_in: 3600, access_token: token, scope: requested.join(' ') });
  });

  app.post('/oauth2/default/v1/token', express.urlencoded({ extended: false }), (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret: secret } = clientCredentials(req.get('authorization'), form);
    const client = clients.get(clientId);
    if (!client || client.secret !== secret) return res.status(401).json({ error: 'invalid_client', error_description: 'The client secret supplied for a confidential client is invalid.' });
    if (!client.settings.grant_types.includes('client_credentials')) return res.status(400).json({ error: 'unauthorized_client', error_description: 'The client is not authorized to use the provided grant type.' });
    res.json({ token_type: 'Bearer', expires_in: 3600, access_token: randomBytes(24).toString('base64url') });
  });

  const authorize = (scope: string) => (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    if (header === `SSWS ${apiToken}`) return next();
    const bearer = header.match(/^Bearer (.+)$/)?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt < Date.now()) return oktaError(res, 401, 'E0000011', 'Invalid token provided');
    if (!token.scopes.includes(scope)) return oktaError(res, 403, 'E0000006', 'You do not have permission to perform the requested action');
    next();
  };

  app.get('/oauth2/v1/clients', authorize('okta.clients.read'), (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q : undefined;
    const limit = Number(req.query.limit ?? 200);
    const name = (settings: Client['settings']) => settings.client_name.toLowerCase();
    const all = [...clients.values()].map((client) => client.settings);
    const matching = q === undefined ? all : all.filter((settings) => name(settings).startsWith(q.toLowerCase())).sort((a, b) => Number(name(b) === q.toLowerCase()) - Number(name(a) === q.toLowerCase()));
    const start = typeof req.query.after === 'string' ? matching.findIndex((settings) => settings.client_id === req.query.after) + 1 : 0;
    const page = matching.slice(start, start + limit);
    const last = page.at(-1);
    if (last && start + limit < matching.length) {
      const next = new URLSearchParams({ ...(q === undefined ? {} : { q }), limit: String(limit), after: last.client_id });
      res.set('link', `<${url}/oauth2/v1/clients?${next.toString()}>; rel="next"`);
    }
    res.json(page);
  });
  app.post('/oauth2/v1/clients', authorize('okta.clients.manage'), express.json(), (req, res) => {
    const body = req.body as Client['settings'];
    if ([...clients.values()].some((client) => client.settings.client_name === body.client_name)) {
      return res.status(400).json({ error: 'invalid_client_metadata', error_description: `client_name: An object with this field already exists in the current organization` });
    }
    if (body.application_type === 'web' && !(body.redirect_uris as string[] | undefined)?.length) {
      return res.status(400).json({ error: 'invalid_redirect_uri', error_description: 'redirect_uris: A redirect URI is required for web applications.' });
    }
    const clientId = `0oa${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
    const secret = randomBytes(30).toString('base64url');
    const settings = { ...body, client_id: clientId, client_id_issued_at: Math.floor(Date.now() / 1000), client_secret_expires_at: 0 };
    clients.set(clientId, { settings, secret, profile: {} });
    res.status(201).json({ ...settings, client_secret: secret });
  });
  const clientOr401 = (req: Request, res: Response) => {
    const client = clients.get(String(req.params.clientId));
    if (!client) res.status(401).json({ error: 'invalid_client', error_description: 'Invalid value for client_id parameter.' });
    return client;
  };
  app.get('/oauth2/v1/clients/:clientId', authorize('okta.clients.read'), (req, res) => {
    const client = clientOr401(req, res);
    if (client) res.json({ ...client.settings, client_secret: client.secret });
  });
  app.put('/oauth2/v1/clients/:clientId', authorize('okta.clients.manage'), express.json(), (req, res) => {
    const client = clientOr401(req, res);
    if (!client) return;
    const body = req.body as Client['settings'];
    for (const field of ['client_name', 'redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method', 'application_type']) {
      if (body[field] === undefined) return res.status(400).json({ error: 'invalid_client_metadata', error_description: `${field}: The field cannot be left blank.` });
    }
    const { client_secret: secret, ...settings } = body;
    client.settings = { ...settings, client_id: client.settings.client_id, client_id_issued_at: client.settings.client_id_issued_at, client_secret_expires_at: 0 };
    if (typeof secret === 'string') client.secret = secret;
    res.json({ ...client.settings, client_secret: client.secret });
  });
  app.delete('/oauth2/v1/clients/:clientId', authorize('okta.clients.manage'), (req, res) => {
    if (!clientOr401(req, res)) return;
    clients.delete(String(req.params.clientId));
    res.status(204).end();
  });
  app.post('/oauth2/v1/clients/:clientId/lifecycle/newSecret', authorize('okta.clients.manage'), (req, res) => {
    const client = clients.get(String(req.params.clientId));
    if (!client) return oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${req.params.clientId} (AppInstance)`);
    client.secret = randomBytes(30).toString('base64url');
    res.json({ ...client.settings, client_secret: client.secret });
  });
  const appView = (client: Client) => ({ id: client.settings.client_id, name: 'oidc_client', label: client.settings.client_name, status: 'ACTIVE', signOnMode: 'OPENID_CONNECT', profile: client.profile, settings: { oauthClient: { redirect_uris: client.settings.redirect_uris } } });
  app.get('/api/v1/apps/:id', authorize('okta.apps.read'), (req, res) => {
    const client = clients.get(String(req.params.id));
    if (!client) return oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${req.params.id} (AppInstance)`);
    res.json(appView(client));
  });
  app.put('/api/v1/apps/:id', authorize('okta.apps.manage'), express.json(), (req, res) => {
    const client = clients.get(String(req.params.id));
    if (!client) return oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${req.params.id} (AppInstance)`);
    const body = req.body as { name?: unknown; profile?: Record<string, unknown> };
    if (body.name !== 'oidc_client') return oktaError(res, 400, 'E0000001', 'Api validation failed: name', ['name: The field cannot be left blank.']);
    client.profile = body.profile ?? {};
    res.json(appView(client));
  });
  app.use((_req, res) => oktaError(res, 404, 'E0000022', 'The endpoint does not support the provided HTTP method'));

  function foreignClient(clientName: string): string {
    const clientId = `0oaforeign${randomBytes(4).toString('hex')}`;
    clients.set(clientId, { settings: { client_id: clientId, client_name: clientName, grant_types: ['client_credentials'], redirect_uris: ['https://foreign.example.com/cb'] }, secret: 'foreign', profile: {} });
    return clientId;
  }

  const server = await listenOnLoopback(app);
  url = server.origin;
  return {
    url,
    apiToken,
    serviceApp,
    requests: kit.requests,
    faults: kit,
    tokenRequests: () => tokenRequests,
    failNext: kit.failNext,
    client: (clientId) => clients.get(clientId),
    clientCount: () => clients.size,
    createForeignClient: () => foreignClient('Made in the admin console'),
    createClientNamed: foreignClient,
    async clientCredentials(clientId, clientSecret) {
      const res = await fetch(`${url}/oauth2/default/v1/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'orders' }) });
      return res.ok;
    },
    close: server.close,
  };
}
