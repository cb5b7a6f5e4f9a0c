import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from '@dcr-bridge/conformance';

/**
 * A minimal in-memory Okta for the benchmark of the `okta` adapter and of Kong's example bridge: the calls
 * either makes (the Apps API's create, read and replace and its client secrets: list, add, deactivate, delete;
 * the Client Application API's create, newSecret and delete), answered as Okta documents them and as cheaply
 * as an IdP can be, on node:http alone. The adapter's
 * own fake (packages/adapter-okta/test/fake-okta.ts) checks much more and costs the shared CPU accordingly:
 * this stub keeps the saturated runs about the bridges. Started by stub.ts.
 */
interface App {
  body: Record<string, unknown> & { id: string; credentials: { oauthClient: Record<string, unknown> } };
  /** Its client secrets, oldest first (at most two; only ACTIVE ones work, only INACTIVE ones can be deleted). */
  secrets: Secret[];
}

interface Secret {
  id: string;
  status: 'ACTIVE' | 'INACTIVE';
  value: string;
  created: string;
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
  const secretObject = (): Secret => ({
    id: `ocs${randomBytes(9).toString('hex')}`,
    status: 'ACTIVE',
    value: newSecret(),
    created: new Date().toISOString(),
  });
  const currentSecret = (app: App) => app.secrets.filter((secret) => secret.status === 'ACTIVE').at(-1)?.value;
  const secretView = (secret: Secret) => ({
    id: secret.id,
    status: secret.status,
    client_secret: secret.value,
    created: secret.created,
    lastUpdated: secret.created,
  });
  const refused = (cause: string) => ({
    errorCode: 'E0000001',
    errorSummary: 'Api validation failed: OAuth2ClientSecretMediated',
    errorCauses: [{ errorSummary: cause }],
  });
  const withSecret = (app: App) => ({
    ...app.body,
    credentials: { oauthClient: { ...app.body.credentials.oauthClient, client_secret: currentSecret(app) } },
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (req.headers.authorization !== `SSWS ${token}`)
      return send(res, 401, { errorCode: 'E0000011', errorSummary: 'Invalid token provided' });
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const [path] = (req.url ?? '/').split('?') as [string];
    const appId = /^\/api\/v1\/apps\/([^/]+)$/.exec(path)?.[1];
    const secrets = /^\/api\/v1\/apps\/([^/]+)\/credentials\/secrets(?:\/([^/]+)(\/lifecycle\/deactivate)?)?$/.exec(path);
    const clientId = /^\/oauth2\/v1\/clients\/([^/]+)/.exec(path)?.[1];
    if (req.method === 'POST' && path === '/api/v1/apps') {
      const id = newId();
      const oauthClient = {
        ...((body.credentials as { oauthClient?: Record<string, unknown> } | undefined)?.oauthClient ?? {}),
        client_id: id,
      };
      const app: App = { body: { ...body, id, status: 'ACTIVE', credentials: { oauthClient } }, secrets: [secretObject()] };
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
    if (secrets) {
      const [, id = '', secretId, deactivate] = secrets;
      const app = apps.get(id);
      if (!app) return send(res, 404, { errorCode: 'E0000007', errorSummary: `Not found: Resource not found: ${id} (AppInstance)` });
      if (secretId === undefined && req.method === 'GET') return send(res, 200, app.secrets.map(secretView));
      if (secretId === undefined && req.method === 'POST') {
        if (app.secrets.length >= 2) return send(res, 400, refused("You've reached the maximum number of client secrets per client."));
        const secret = secretObject();
        app.secrets.push(secret);
        return send(res, 201, secretView(secret));
      }
      const secret = app.secrets.find((candidate) => candidate.id === secretId);
      if (!secret)
        return send(res, 404, { errorCode: 'E0000007', errorSummary: `Not found: Resource not found: ${secretId} (OAuth2ClientSecret)` });
      if (deactivate && req.method === 'POST') {
        if (secret.status === 'ACTIVE' && app.secrets.filter((other) => other.status === 'ACTIVE').length === 1)
          return send(res, 400, refused("You can't deactivate the only active client secret."));
        secret.status = 'INACTIVE';
        return send(res, 200, secretView(secret));
      }
      if (!deactivate && req.method === 'DELETE') {
        if (secret.status === 'ACTIVE')
          return send(res, 400, refused("You can't delete an active client secret. Deactivate the secret before deleting it."));
        app.secrets = app.secrets.filter((other) => other !== secret);
        return send(res, 204);
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
        secrets: [secretObject()],
      };
      apps.set(id, app);
      return send(res, 201, {
        ...body,
        client_id: id,
        client_secret: currentSecret(app),
        client_id_issued_at: Math.floor(Date.now() / 1000),
        client_secret_expires_at: 0,
      });
    }
    if (req.method === 'GET' && path === '/oauth2/v1/clients') return send(res, 200, []);
    // The API token's admin and its roles, which readiness reads (the adapter's permission check).
    if (req.method === 'GET' && path === '/api/v1/users/me') return send(res, 200, { id: '00ustubadmin' });
    if (req.method === 'GET' && path === '/api/v1/users/00ustubadmin/roles')
      return send(res, 200, [{ id: 'ra1stub', type: 'APP_ADMIN', label: 'Application Administrator', status: 'ACTIVE' }]);
    if (clientId !== undefined) {
      const app = apps.get(clientId);
      if (!app) return send(res, 401, { error: 'invalid_client', error_description: 'Invalid value for client_id parameter.' });
      if (req.method === 'POST' && path.endsWith('/lifecycle/newSecret')) {
        app.secrets = [secretObject()];
        return send(res, 200, { client_id: clientId, client_secret: currentSecret(app) });
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
    env: { DCR_BRIDGE_ADAPTER: 'okta', OKTA_DOMAIN: url, OKTA_API_TOKEN: token, OKTA_ALLOW_INSECURE_HTTP: 'true' },
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
