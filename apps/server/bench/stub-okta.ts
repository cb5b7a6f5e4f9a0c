import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from '@dcr-bridge/conformance';

/**
 * A minimal in-memory Okta for the benchmark of the `okta` adapter and of Kong's example bridge: the calls
 * either makes (the Apps API's create, read and replace; the Client Application API's create, newSecret and
 * delete), answered as Okta documents them and as cheaply as an IdP can be, on node:http alone. The adapter's
 * own fake (packages/adapter-okta/test/fake-okta.ts) checks much more and costs the shared CPU accordingly:
 * this stub keeps the saturated runs about the bridges. Started by stub.ts.
 */
interface App {
  body: Record<string, unknown> & { id: string; credentials: { oauthClient: Record<string, unknown> } };
  secret: string;
}

export async function startOktaStub(): Promise<{
  env: Record<string, string>;
  application: Record<string, unknown>;
  requests: () => string[];
  close: () => Promise<void>;
}> {
  const token = randomBytes(16).toString('hex');
  const apps = new Map<string, App>();
  const seen: string[] = [];
  const newId = () => `0oa${randomBytes(9).toString('hex')}`;
  const newSecret = () => randomBytes(30).toString('base64url');
  const withSecret = (app: App) => ({
    ...app.body,
    credentials: { oauthClient: { ...app.body.credentials.oauthClient, client_secret: app.secret } },
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (req.headers.authorization !== `SSWS ${token}`)
      return send(res, 401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided' });
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const [path] = (req.url ?? '/').split('?') as [string];
    const appId = /^\/api\/v1\/apps\/([^/]+)$/.exec(path)?.[1];
    const clientId = /^\/oauth2\/v1\/clients\/([^/]+)/.exec(path)?.[1];
    if (req.method === 'POST' && path === '/api/v1/apps') {
      const id = newId();
      const oauthClient = {
        ...((body.credentials as { oauthClient?: Record<string, unknown> } | undefined)?.oauthClient ?? {}),
        client_id: id,
      };
      const app: App = { body: { ...body, id, status: 'ACTIVE', credentials: { oauthClient } }, secret: newSecret() };
      apps.set(id, app);
      return send(res, 200, withSecret(app));
    }
    if (appId !== undefined) {
      const app = apps.get(appId);
      if (!app) return send(res, 404, { errorCode: 'E0000007', errorSummary: `Not found: Resource not found: ${appId} (AppInstance)` });
      if (req.method === 'GET') return send(res, 200, app.body);
      if (req.method === 'PUT') {
        const oauthClient = {
          ...((body.credentials as { oauthClient?: Record<string, unknown> } | undefined)?.oauthClient ?? {}),
          client_id: appId,
        };
        app.body = { ...body, id: appId, credentials: { oauthClient } };
        return send(res, 200, withSecret(app));
      }
    }
    if (req.method === 'POST' && path === '/oauth2/v1/clients') {
      const id = newId();
      const app: App = {
        body: {
          id,
          label: body.client_name,
          settings: { oauthClient: body },
          credentials: { oauthClient: { client_id: id } },
          profile: {},
        },
        secret: newSecret(),
      };
      apps.set(id, app);
      return send(res, 201, {
        ...body,
        client_id: id,
        client_secret: app.secret,
        client_id_issued_at: Math.floor(Date.now() / 1000),
        client_secret_expires_at: 0,
      });
    }
    if (req.method === 'GET' && path === '/oauth2/v1/clients') return send(res, 200, []);
    if (clientId !== undefined) {
      const app = apps.get(clientId);
      if (!app) return send(res, 401, { error: 'invalid_client', error_description: 'Invalid value for client_id parameter.' });
      if (req.method === 'POST' && path.endsWith('/lifecycle/newSecret')) {
        app.secret = newSecret();
        return send(res, 200, { client_id: clientId, client_secret: app.secret });
      }
      if (req.method === 'DELETE') {
        apps.delete(clientId);
        return send(res, 204);
      }
    }
    send(res, 404, { errorCode: 'E0000022', errorSummary: 'The endpoint does not support the provided HTTP method' });
  }

  const server = await listenOnLoopback((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    answer(req, res).catch(() => send(res, 500, { errorCode: 'E0000009', errorSummary: 'Internal Server Error' }));
  });
  server.server.keepAliveTimeout = 65_000;
  const url = server.origin;
  return {
    env: { DCR_BRIDGE_ADAPTER: 'okta', OKTA_DOMAIN: url, OKTA_API_TOKEN: token },
    application: {},
    requests: () => seen,
    close: server.close,
  };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
