import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type ApiDescription, type FakeIdpKit } from '@dcr-bridge/conformance';
import { checkTraffic, createPingFederateApiDescription, PINGFEDERATE_API_VERSION } from './vendor/pingfederate-api.js';

/**
 * A fake of PingFederate's administrative API (`/pf-admin-api/v1`) and its runtime token endpoint
 * (`/as/token.oauth2`), written from Ping's documentation and the pingfederate-go-client models:
 * - every admin request needs `X-XSRF-Header: PingFederate` and Basic admin credentials (or a bearer
 *   token from the admin OAuth client);
 * - the caller chooses `clientId` and supplies the plaintext secret in `clientAuth.secret`; reads never
 *   return a plaintext secret, only `encryptedSecret`, which is **encrypted anew on every read** (a random
 *   IV: two reads of one secret differ, as Ping's own Terraform provider notes: "encrypted secrets change on
 *   read"), and which any POST or PUT takes back in place of `secret` ("if you wish to reuse the existing
 *   secret, this field should be passed back unchanged"): PingFederate decrypts it, so an `encryptedSecret`
 *   read before a rotation brings the old secret back. A value it cannot decrypt answers 422;
 * - `secondarySecrets: [{secret | encryptedSecret, expiryTime}]` keep older secrets working until their
 *   `expiryTime`: the token endpoint accepts the primary and every unexpired secondary, and reads list only
 *   unexpired ones (with their `expiryTime`, and an `encryptedSecret` as above). A secondary without
 *   `expiryTime` answers 422 (the admin API's model leaves it optional, Ping's Terraform provider requires it:
 *   the fake takes the stricter reading);
 * - client secret retention (`clientSecretRetentionPeriod`, minutes: on the authorization server settings,
 *   overridden per client with `clientSecretRetentionPeriodType: OVERRIDE_SERVER_DEFAULT`): when a write
 *   changes the primary secret, the old one is kept as a secondary for that long. Whether PingFederate applies
 *   it when the same write names its own `secondarySecrets` is not documented: the fake assumes the worse case
 *   (it does, on top of them);
 * - `PUT /oauth/clients/{id}` replaces the whole client, `clientAuth` included (no `secondarySecrets` in it
 *   means none); read-only fields (`creationDate`, `clientSecretChangedTime`) are ignored;
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
 * - `GET /serverSettings` gives `federationInfo.baseUrl`, the runtime's base URL (this fake's origin);
 * - `GET /version` answers `{version}` (the admin API's `Version` model) to any account that may sign in, whatever
 *   its roles (the User Access Control table lists `/version` for every role); the version is the `version` option.
 *
 * Every admin API request the adapter sends and every answer the fake gives (an injected fault included) is checked
 * against PingFederate's own administrative API description, pinned in test/vendor (`api`); the tests assert that
 * it found nothing.
 */
interface StoredClient {
  client: Record<string, unknown> & { clientId: string; grantTypes: string[] };
  /** The primary secret, in clear (the fake's own view; the admin API never shows it). */
  secret: string;
  /** Secondary secrets, in clear, with their expiry. */
  secondary: Array<{ secret: string; expiryTime: string }>;
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
  secondarySecrets?: Array<{ secret?: string; encryptedSecret?: string; expiryTime?: string }>;
}

export interface FakePingFederateOptions {
  tls?: { key: string; cert: string };
  /** The PingFederate version the fake models (`GET /version`); default the pinned API description's, 12.1.0.4. */
  version?: string;
  /** Where traffic problems are collected; default a new description of the pinned document. */
  api?: ApiDescription;
}

export interface FakePingFederate {
  /** The pinned API description every admin request and answer is checked against. */
  api: ApiDescription;
  /** The version `GET /version` answers. */
  version: string;
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
  /** The secrets the token endpoint accepts for the client now (primary first, then unexpired secondaries). */
  activeSecrets(clientId: string): string[];
  /** The authorization server's Client Secret Retention Period, in minutes (0, PingFederate's default, keeps none). */
  setSecretRetention(minutes: number): void;
  clientCount(): number;
  /** An administrator changes settings of the client in the admin console, behind the bridge's back. */
  editClient(clientId: string, settings: Record<string, unknown>): void;
  createForeignClient(): string;
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startFakePingFederate(options: FakePingFederateOptions = {}): Promise<FakePingFederate> {
  const version = options.version ?? PINGFEDERATE_API_VERSION;
  const api = options.api ?? createPingFederateApiDescription();
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
  let secretRetentionMinutes = 0;
  /**
   * PingFederate's encrypted values: opaque to the caller, decryptable only by the server, and different on
   * every read (a fresh IV each time). The shape (`OBF:JWE:` and a compact JWE with a direct key) follows the
   * values PingFederate exports; the adapter relies on none of it.
   */
  const key = randomBytes(32);
  const header = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'fake-pf' })).toString('base64url');
  const encrypt = (secret: string) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(header));
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `OBF:JWE:${header}..${iv.toString('base64url')}.${data.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  };
  /** The clear secret, or undefined when the value is not one this server encrypted. */
  const decrypt = (value: string): string | undefined => {
    const [prot, encryptedKey, iv, data, tag] = value.replace(/^OBF:JWE:/, '').split('.');
    if (prot === undefined || encryptedKey !== '' || !iv || data === undefined || !tag) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(prot));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  };
  const unexpired = (stored: StoredClient) => stored.secondary.filter((s) => Date.parse(s.expiryTime) > Date.now());
  const activeSecrets = (stored: StoredClient) => [stored.secret, ...unexpired(stored).map((s) => s.secret)];

  const app = express();
  checkTraffic(app, '/pf-admin-api/v1', api);
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
    if (!stored || !activeSecrets(stored).includes(secret) || stored.client.enabled === false)
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
    if (req.path === '/version') return next();
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
  adminApi.get('/version', (_req, res) => void res.json({ version }));
  adminApi.get(
    '/serverSettings',
    (_req, res) =>
      void res.json({
        federationInfo: { baseUrl: origin, saml2EntityId: 'pf.example.com' },
        rolesAndProtocols: { oauthRole: { enableOauth: true, enableOpenIdConnect: true } },
      }),
  );
  const secretView = (stored: StoredClient) => ({
    encryptedSecret: encrypt(stored.secret),
    secondarySecrets: unexpired(stored).map((s) => ({ encryptedSecret: encrypt(s.secret), expiryTime: s.expiryTime })),
  });
  const view = (stored: StoredClient) => ({
    ...stored.client,
    creationDate: stored.creationDate,
    clientSecretChangedTime: stored.clientSecretChangedTime,
    clientAuth: { type: 'SECRET', ...secretView(stored) },
  });
  /** Minutes a changed primary secret stays valid as a secondary: the client's override, else the server's. */
  const retentionOf = (stored: StoredClient) =>
    stored.client.clientSecretRetentionPeriodType === 'OVERRIDE_SERVER_DEFAULT'
      ? Number(stored.client.clientSecretRetentionPeriod ?? 0)
      : secretRetentionMinutes;
  const setSecrets = (stored: StoredClient, primary: string, secondary: StoredClient['secondary']) => {
    const retention = retentionOf(stored);
    if (primary !== stored.secret) {
      if (retention > 0)
        secondary = [...secondary, { secret: stored.secret, expiryTime: new Date(Date.now() + retention * 60_000).toISOString() }];
      stored.clientSecretChangedTime = new Date().toISOString();
    }
    stored.secret = primary;
    stored.secondary = secondary;
  };
  /** The clear value of `{secret}` or `{encryptedSecret}`, or the problem with it. */
  const clearValue = (auth: { secret?: string; encryptedSecret?: string } | undefined, field: string): string | { error: string } => {
    if (auth?.secret) return auth.secret;
    if (auth?.encryptedSecret)
      return decrypt(auth.encryptedSecret) ?? { error: `${field}.encryptedSecret: The encrypted value is invalid.` };
    return { error: `${field}.secret: A secret is required.` };
  };
  /** The secrets a write asks for, or the 422 problems. */
  const secretsFrom = (
    body: SecretBody | undefined,
    prefix: string,
    current: StoredClient['secondary'] | undefined,
  ): { primary: string; secondary: StoredClient['secondary'] } | { errors: string[] } => {
    const errors: string[] = [];
    const primary = clearValue(body, prefix || 'secret');
    if (typeof primary !== 'string') errors.push(primary.error);
    const secondary: StoredClient['secondary'] = [];
    if (body?.secondarySecrets === undefined) secondary.push(...(current ?? []));
    else
      body.secondarySecrets.forEach((s, i) => {
        const field = `${prefix ? `${prefix}.` : ''}secondarySecrets[${i}]`;
        const value = clearValue(s, field);
        if (typeof value !== 'string') return void errors.push(value.error);
        if (!s.expiryTime || Number.isNaN(Date.parse(s.expiryTime)))
          return void errors.push(`${field}.expiryTime: An expiry time is required.`);
        secondary.push({ secret: value, expiryTime: new Date(s.expiryTime).toISOString() });
      });
    return errors.length > 0 || typeof primary !== 'string' ? { errors } : { primary, secondary };
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
  adminApi.get(
    '/oauth/authServerSettings',
    (_req, res) =>
      void res.json({
        // Required by the AuthorizationServerSettings model; PingFederate's defaults.
        authorizationCodeEntropy: 30,
        authorizationCodeTimeout: 60,
        refreshRollingInterval: 0,
        refreshTokenLength: 42,
        scopes,
        exclusiveScopes: [],
        clientSecretRetentionPeriod: secretRetentionMinutes,
      }),
  );
  adminApi.get('/oauth/clients', (_req, res) => void res.json({ items: [...clients.values()].map(view) }));
  adminApi.post('/oauth/clients', (req, res) => {
    const body = req.body as StoredClient['client'] & { clientAuth?: SecretBody & { type?: string } };
    const errors = validate(body);
    if (clients.has(body.clientId)) errors.push(`clientId: The client ID '${body.clientId}' is already in use.`);
    const secrets = secretsFrom(body.clientAuth, 'clientAuth', []);
    if ('errors' in secrets) errors.push(...secrets.errors);
    if (errors.length > 0 || 'errors' in secrets) return validationError(res, errors);
    const { clientAuth: _auth, ...client } = body;
    const now = new Date().toISOString();
    clients.set(body.clientId, {
      client,
      secret: secrets.primary,
      secondary: secrets.secondary,
      creationDate: now,
      clientSecretChangedTime: now,
    });
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
    // The whole client is replaced, clientAuth with it: secondary secrets it does not name are gone.
    const secrets = secretsFrom({ secondarySecrets: [], ...body.clientAuth }, 'clientAuth', undefined);
    if ('errors' in secrets) errors.push(...secrets.errors);
    if (errors.length > 0 || 'errors' in secrets) return validationError(res, errors);
    const { clientAuth: _auth, creationDate: _created, clientSecretChangedTime: _changed, ...client } = body;
    stored.client = { ...client, clientId: stored.client.clientId };
    setSecrets(stored, secrets.primary, secrets.secondary);
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
    const secrets = secretsFrom(req.body as SecretBody, '', unexpired(stored));
    if ('errors' in secrets) return validationError(res, secrets.errors);
    setSecrets(stored, secrets.primary, secrets.secondary);
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
    api,
    version,
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
    activeSecrets(clientId) {
      const stored = clients.get(clientId);
      return stored ? activeSecrets(stored) : [];
    },
    editClient(clientId, settings) {
      const stored = clients.get(clientId);
      if (!stored) throw new Error(`no client ${clientId}`);
      stored.client = { ...stored.client, ...settings };
    },
    setSecretRetention(minutes) {
      secretRetentionMinutes = minutes;
    },
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
        secret: 'foreign',
        secondary: [],
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
