import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type FakeIdpKit } from '@dcr-bridge/conformance';

/**
 * A fake of PingFederate's administrative API (`/pf-admin-api/v1`) and its runtime token endpoint
 * (`/as/token.oauth2`), written from Ping's documentation and the pingfederate-go-client models:
 * - every admin request needs `X-XSRF-Header: PingFederate` and Basic admin credentials (or a bearer
 *   token from the admin OAuth client);
 * - the caller chooses `clientId` and supplies the plaintext secret in `clientAuth.secret`; reads return
 *   only `clientAuth.encryptedSecret`, which a PUT passes back unchanged to keep the secret;
 *   `secondarySecrets` keeps old secrets valid;
 * - `PUT /oauth/clients/{id}` replaces the whole client: an `encryptedSecret` read before a rotation
 *   brings the old secret back; read-only fields (`creationDate`, `clientSecretChangedTime`) are ignored;
 * - `GET|PUT /oauth/clients/{id}/clientAuth/clientSecret` reads and writes the `ClientSecret` model
 *   `{secret, encryptedSecret, secondarySecrets}` and answers 200 with it; a PUT without
 *   `secondarySecrets` keeps the current ones (Ping's docs do not say; the fake assumes the worse case);
 * - validation errors answer 422 `{resultId: "validation_error", message, validationErrors: [...]}`;
 *   unknown ids answer 404 `{resultId: "resource_not_found", message}` (bodies not checked first-hand:
 *   Ping's docs give their shape, not full examples);
 * - restricted scopes must exist in the authorization server settings;
 * - role-based access control, from the User Access Control table of "Configure access to the
 *   administrative API": the Admin role (`ADMINISTRATOR`) reads and writes OAuth clients, scope management
 *   and server settings; an Auditor (`auditor: true`, no other role) reads them and writes nothing; other
 *   roles reach none of them. Account management (`/administrativeAccounts`) belongs to User Admin
 *   (`USER_ADMINISTRATOR`), and an Auditor reads it. A refusal answers 403 with no body, as the admin API's
 *   OpenAPI description gives its 403s (`content: {}`); which role each resource needs is the table's
 *   wording, not a live server's answer. The admin OAuth client's tokens carry the Admin role (as mapped
 *   in oauth2.properties);
 * - `GET /serverSettings` gives `federationInfo.baseUrl`, the runtime's base URL (this fake's origin).
 */
interface StoredClient {
  client: Record<string, unknown> & { clientId: string; grantTypes: string[] };
  secrets: string[];
  creationDate: string;
  clientSecretChangedTime: string;
}

interface AdminAccount {
  password: string;
  roles: string[];
  auditor: boolean;
}

interface SecretBody {
  secret?: string;
  encryptedSecret?: string;
  secondarySecrets?: Array<{ secret?: string; encryptedSecret?: string }>;
}

export interface FakePingFederate {
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  adminUrl: string;
  runtimeUrl: string;
  admin: { username: string; password: string };
  /** A native administrative account with these roles (`ADMINISTRATOR`, `USER_ADMINISTRATOR`, `CRYPTO_ADMINISTRATOR`…), or an Auditor. */
  addAccount(account: { roles: string[]; auditor?: boolean }): { username: string; password: string };
  oauthAdmin: { clientId: string; clientSecret: string };
  requests: string[];
  adminTokenRequests(): number;
  failNext(method: string, pattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  client(clientId: string): StoredClient | undefined;
  clientCount(): number;
  createForeignClient(): string;
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startFakePingFederate(options: { tls?: { key: string; cert: string } } = {}): Promise<FakePingFederate> {
  const admin = { username: 'dcr-bridge-admin', password: randomBytes(18).toString('base64url') };
  const oauthAdmin = { clientId: 'pf-admin-client', clientSecret: randomBytes(18).toString('base64url') };
  const accounts = new Map<string, AdminAccount>([
    [admin.username, { password: admin.password, roles: ['ADMINISTRATOR'], auditor: false }],
  ]);
  const clients = new Map<string, StoredClient>();
  const adminTokens = new Set<string>();
  const scopes = [
    { name: 'openid', description: 'OpenID' },
    { name: 'read:orders', description: 'Read orders' },
  ];
  const kit = createFakeIdpKit();
  let adminTokenRequests = 0;
  /** Known once the server listens; the server settings give it as the base URL. */
  let origin = '';
  const encrypt = (secret: string) => `OBF:JWE:${Buffer.from(secret).toString('base64url')}`;
  const decrypt = (value: string) => Buffer.from(value.replace('OBF:JWE:', ''), 'base64url').toString();

  const app = express();
  app.use(kit.middleware);

  app.post('/as/token.oauth2', express.urlencoded({ extended: false }), (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret: secret } = clientCredentials(req.get('authorization'), form);
    if (form.grant_type !== 'client_credentials') return res.status(400).json({ error: 'unsupported_grant_type' });
    if (clientId === oauthAdmin.clientId) {
      adminTokenRequests++;
      if (secret !== oauthAdmin.clientSecret)
        return res.status(401).json({ error: 'invalid_client', error_description: 'Invalid client or client credentials.' });
      const token = randomBytes(24).toString('base64url');
      adminTokens.add(token);
      return res.json({ access_token: token, token_type: 'Bearer', expires_in: 7200 });
    }
    const stored = clients.get(clientId);
    if (!stored || !stored.secrets.includes(secret) || stored.client.enabled === false)
      return res.status(401).json({ error: 'invalid_client', error_description: 'Invalid client or client credentials.' });
    if (!stored.client.grantTypes.includes('CLIENT_CREDENTIALS'))
      return res
        .status(400)
        .json({ error: 'unauthorized_client', error_description: 'The client is not authorized to request a token using this method.' });
    res.json({ access_token: randomBytes(24).toString('base64url'), token_type: 'Bearer', expires_in: 7200 });
  });

  const adminApi = express.Router();
  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (req.get('x-xsrf-header') !== 'PingFederate')
      return void res.status(403).json({ resultId: 'forbidden', message: 'The X-XSRF-Header header is required.' });
    const header = req.get('authorization') ?? '';
    const basic = header.match(/^Basic (.+)$/)?.[1];
    const bearer = header.match(/^Bearer (.+)$/)?.[1];
    const credentials = basic ? Buffer.from(basic, 'base64').toString() : '';
    const username = credentials.slice(0, credentials.indexOf(':'));
    const account = basic ? accounts.get(username) : undefined;
    const caller: Omit<AdminAccount, 'password'> | undefined =
      account && credentials === `${username}:${account.password}`
        ? account
        : bearer && adminTokens.has(bearer)
          ? { roles: ['ADMINISTRATOR'], auditor: false }
          : undefined;
    if (!caller) return void res.status(401).json({ resultId: 'unauthorized', message: 'Authentication required.' });
    const role = req.path.startsWith('/administrativeAccounts') ? 'USER_ADMINISTRATOR' : 'ADMINISTRATOR';
    const reading = req.method === 'GET';
    if (!caller.roles.includes(role) && !(reading && caller.auditor)) return void res.status(403).end();
    next();
  };
  app.use('/pf-admin-api/v1', guard, express.json(), adminApi);
  adminApi.get('/administrativeAccounts/:username', (req, res) => {
    const account = accounts.get(String(req.params.username));
    if (!account) return res.status(404).json({ resultId: 'resource_not_found', message: 'Resource not found.' });
    res.json({
      username: req.params.username,
      active: true,
      auditor: account.auditor,
      roles: account.roles,
      encryptedPassword: encrypt(account.password),
    });
  });
  adminApi.get(
    '/serverSettings',
    (_req, res) =>
      void res.json({
        federationInfo: { baseUrl: origin, saml2EntityId: 'pf.example.com' },
        rolesAndProtocols: { oauthRole: { enableOauth: true, enableOpenIdConnect: true } },
      }),
  );
  const secretView = (stored: StoredClient) => ({
    encryptedSecret: encrypt(stored.secrets[0] ?? ''),
    secondarySecrets: stored.secrets
      .slice(1)
      .map((s) => ({ encryptedSecret: encrypt(s), expiryTime: new Date(Date.now() + 3_600_000).toISOString() })),
  });
  const view = (stored: StoredClient) => ({
    ...stored.client,
    creationDate: stored.creationDate,
    clientSecretChangedTime: stored.clientSecretChangedTime,
    clientAuth: { type: 'SECRET', ...secretView(stored) },
  });
  const setSecrets = (stored: StoredClient, secrets: string[]) => {
    if (secrets[0] !== stored.secrets[0]) stored.clientSecretChangedTime = new Date().toISOString();
    stored.secrets = secrets;
  };
  const validate = (body: Record<string, unknown>): string[] => {
    const errors: string[] = [];
    if (!Array.isArray(body.grantTypes) || body.grantTypes.length === 0) errors.push('grantTypes: At least one grant type is required.');
    (body.redirectUris as string[] | undefined)?.forEach((uri, i) => {
      try {
        new URL(uri);
      } catch {
        errors.push(`redirectUris[${i}]: Invalid redirect URI.`);
      }
    });
    for (const scope of (body.restrictedScopes as string[] | undefined) ?? [])
      if (!scopes.some((s) => s.name === scope)) errors.push(`restrictedScopes: Scope '${scope}' is not defined.`);
    return errors;
  };
  const validationError = (res: Response, errors: string[]) =>
    void res.status(422).json({
      resultId: 'validation_error',
      message: 'Validation error(s) occurred. Please review the error(s) and address accordingly.',
      validationErrors: errors.map((error) => ({
        fieldPath: error.split(':')[0],
        errorId: 'invalid_value',
        message: error.split(': ')[1],
      })),
    });
  const secretFrom = (auth: { secret?: string; encryptedSecret?: string } | undefined, current?: string) =>
    auth?.secret ?? (auth?.encryptedSecret ? decrypt(auth.encryptedSecret) : current);

  adminApi.get('/oauth/authServerSettings', (_req, res) => void res.json({ scopes, exclusiveScopes: [] }));
  adminApi.get('/oauth/clients', (_req, res) => void res.json({ items: [...clients.values()].map(view) }));
  adminApi.post('/oauth/clients', (req, res) => {
    const body = req.body as StoredClient['client'] & { clientAuth?: { type?: string; secret?: string } };
    const errors = validate(body);
    if (clients.has(body.clientId)) errors.push(`clientId: The client ID '${body.clientId}' is already in use.`);
    if (body.clientAuth?.type === 'SECRET' && !body.clientAuth.secret) errors.push('clientAuth.secret: A secret is required.');
    if (errors.length > 0) return validationError(res, errors);
    const { clientAuth, ...client } = body;
    const now = new Date().toISOString();
    clients.set(body.clientId, { client, secrets: [clientAuth?.secret ?? ''], creationDate: now, clientSecretChangedTime: now });
    res.status(201).json(view(clients.get(body.clientId)!));
  });
  adminApi.get('/oauth/clients/:id', (req, res) => {
    const stored = clients.get(String(req.params.id));
    if (!stored) return res.status(404).json({ resultId: 'resource_not_found', message: 'Resource not found.' });
    res.json(view(stored));
  });
  adminApi.put('/oauth/clients/:id', (req, res) => {
    const stored = clients.get(String(req.params.id));
    if (!stored) return res.status(404).json({ resultId: 'resource_not_found', message: 'Resource not found.' });
    const body = req.body as StoredClient['client'] & { clientAuth?: SecretBody };
    const errors = validate(body);
    if (errors.length > 0) return validationError(res, errors);
    const { clientAuth, creationDate: _created, clientSecretChangedTime: _changed, ...client } = body;
    const primary = secretFrom(clientAuth, undefined);
    if (!primary) return validationError(res, ['clientAuth.secret: A secret is required.']);
    const secondary = (clientAuth?.secondarySecrets ?? [])
      .map((s) => secretFrom(s, undefined))
      .filter((s): s is string => typeof s === 'string');
    stored.client = { ...client, clientId: stored.client.clientId };
    setSecrets(stored, [primary, ...secondary]);
    res.json(view(stored));
  });
  adminApi.get('/oauth/clients/:id/clientAuth/clientSecret', (req, res) => {
    const stored = clients.get(String(req.params.id));
    if (!stored) return res.status(404).json({ resultId: 'resource_not_found', message: 'Resource not found.' });
    res.json(secretView(stored));
  });
  adminApi.put('/oauth/clients/:id/clientAuth/clientSecret', (req, res) => {
    const stored = clients.get(String(req.params.id));
    if (!stored) return res.status(404).json({ resultId: 'resource_not_found', message: 'Resource not found.' });
    const body = req.body as SecretBody;
    const primary = secretFrom(body, undefined);
    if (!primary) return validationError(res, ['secret: A secret is required.']);
    const secondary = body.secondarySecrets
      ? body.secondarySecrets.map((s) => secretFrom(s, undefined)).filter((s): s is string => typeof s === 'string')
      : stored.secrets.slice(1);
    setSecrets(stored, [primary, ...secondary]);
    res.json(secretView(stored));
  });
  adminApi.delete('/oauth/clients/:id', (req, res) => {
    if (!clients.delete(String(req.params.id)))
      return res.status(404).json({ resultId: 'resource_not_found', message: 'Resource not found.' });
    res.status(204).end();
  });

  const server = await listenOnLoopback(app, { tls: options.tls });
  origin = server.origin;
  return {
    adminUrl: `${origin}/pf-admin-api/v1`,
    runtimeUrl: origin,
    admin,
    addAccount(account) {
      const username = `account-${randomBytes(4).toString('hex')}`;
      const password = randomBytes(18).toString('base64url');
      accounts.set(username, { password, roles: account.auditor ? [] : account.roles, auditor: account.auditor ?? false });
      return { username, password };
    },
    oauthAdmin,
    requests: kit.requests,
    faults: kit,
    adminTokenRequests: () => adminTokenRequests,
    failNext: kit.failNext,
    client: (clientId) => clients.get(clientId),
    clientCount: () => clients.size,
    createForeignClient() {
      const clientId = `console-${randomBytes(4).toString('hex')}`;
      const now = new Date().toISOString();
      clients.set(clientId, {
        client: {
          clientId,
          name: 'Made in the admin console',
          description: 'Partner integration',
          enabled: true,
          grantTypes: ['CLIENT_CREDENTIALS'],
          redirectUris: ['https://foreign.example.com/cb'],
        },
        secrets: ['foreign'],
        creationDate: now,
        clientSecretChangedTime: now,
      });
      return clientId;
    },
    async clientCredentials(clientId, clientSecret) {
      const res = await fetch(`${origin}/as/token.oauth2`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      });
      return res.ok;
    },
    close: server.close,
  };
}
