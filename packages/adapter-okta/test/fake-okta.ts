import { createHash, randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import { clientCredentials, createFakeIdpKit, listenOnLoopback, type ApiDescription, type FakeIdpKit } from '@dcr-bridge/conformance';
import { createOktaApiDescription } from './vendor/okta-api.js';

/**
 * A fake of Okta's Apps API, OAuth client API and token endpoints, written from Okta's documentation
 * (okta-developer-docs: reference/api/apps, reference/api/oauth-clients, error codes, rate limits, OAuth for Okta):
 * - `POST /api/v1/apps` with an `oidc_client` app (`label`, `signOnMode: OPENID_CONNECT`,
 *   `credentials.oauthClient`, `settings.oauthClient`, `profile`): 200 with the app, whose
 *   `credentials.oauthClient` shows the `client_secret` Okta generated (shown only in the answers to a create
 *   or an update); the app id is the client_id; `?activate=false` leaves it INACTIVE (default ACTIVE);
 *   validation failures answer 400 E0000001 `Api validation failed: <field>` with `errorCauses`; a duplicate
 *   label is refused (labels are unique); at least one redirect URI unless the grant types include
 *   client_credentials;
 * - `GET /api/v1/apps/{id}`: the app without its secret; unknown → 404 E0000007;
 * - `PUT /api/v1/apps/{id}` replaces the app (no delta updates: a missing `profile` or setting is gone
 *   afterwards); system-assigned properties are ignored; the secrets stay when the body has none, a body
 *   with a `client_secret` makes it the app's only secret (an old secret sent back is back), and a changed
 *   `token_endpoint_auth_method` gets a new secret (the only one);
 * - `GET /api/v1/apps?q=` matches the start of `name` or `label` (case-insensitive), paged by `limit`
 *   (default 20, at most 200) and the `after` cursor of the `Link: <…>; rel="next"` header;
 * - `/oauth2/v1/clients`: the list (RFC 7591 shape, `q` on `client_name`, the app's label);
 *   `DELETE /oauth2/v1/clients/{id}` → 204, unknown → 404 E0000007 (the OAuth 2.0 API document 2026.06.3), or 401
 *   `invalid_client` (Okta's former Client Application reference; `unknownClientOnDelete: 401`);
 * - the client secrets of an app (Okta Admin Management API 2026.06.3, okta/okta-management-openapi-spec
 *   `dist/2026.06.3/management-oneOfInheritance.yaml`, tag ApplicationSSOPublicKeys; guide "Client secret
 *   rotation and key management"): every app starts with one ACTIVE secret (the one its create answer shows);
 *   `GET /api/v1/apps/{id}/credentials/secrets` lists them all, INACTIVE ones too, each
 *   `{id: ocs…, status, client_secret, secret_hash, created, lastUpdated, _links}`; `POST` (body `{}`, or a
 *   `client_secret` of 14–100 printable ASCII characters, and a `status`) → 201 with the new secret; at most two
 *   secret objects per app, whatever their status: a third → 400 E0000001 `Api validation failed:
 *   OAuth2ClientSecretMediated` ("You've reached the maximum number of client secrets per client.");
 *   `POST …/{secretId}/lifecycle/deactivate` → 200 INACTIVE, but never the only ACTIVE one (400 E0000001 "You
 *   can't deactivate the only active client secret."); `…/lifecycle/activate` → 200 ACTIVE; `DELETE
 *   …/{secretId}` → 204, only an INACTIVE one (an ACTIVE one → 400 E0000001 "You can't delete an active client
 *   secret. Deactivate the secret before deleting it."); an unknown app or secret → 404 E0000007. Okta does not
 *   say what a second deactivation of an INACTIVE secret answers: 200 here, or 400 after
 *   `refuseRedeactivation(true)`, so that the adapter is tested against both;
 * - the token endpoint takes every ACTIVE secret of the app, and refuses INACTIVE and deleted ones ("requests
 *   that are sent using the previous secret still work until the status of that client secret is set to
 *   Inactive"); the app's `credentials.oauthClient.client_secret` is its newest ACTIVE one;
 * - management errors `{errorCode, errorSummary, errorLink, errorId, errorCauses}`; a bad token → 401
 *   E0000011; a missing OAuth scope → 403 E0000006 with `WWW-Authenticate: Bearer …, scope="<the scope>",
 *   error="insufficient_scope", error_description="The access token provided does not contain the required scopes."`;
 * - admin roles (Okta's standard roles, `{id, label, type, status, assignmentType}`): the API token acts with
 *   the roles of the admin who created it, the service app with its own; reading apps and clients needs an
 *   admin role that may read them (Read-only, Application, Org or Super Administrator, or a custom role),
 *   writing one that may manage them (not Read-only), else 403 E0000006; `GET /api/v1/users/me` answers the
 *   API token's admin and `GET /api/v1/users/{id}/roles` its role assignments (a service app's token has no
 *   `okta.users.read` / `okta.roles.read` scope: 403 E0000006);
 * - the org authorization server authenticates the service app (401 `invalid_client` for a key it does not know), then
 *   issues a token only for scopes granted to it: a request naming one that is not is refused whole (400
 *   `invalid_scope`, "The following scopes are not allowed for this request: [<scopes>]."); grants can change
 *   (`grantScopes`);
 * - 429 with X-Rate-Limit-Limit / -Remaining / -Reset (epoch seconds);
 * - `GET /.well-known/okta-organization` (no credential): `{id, pipeline, _links}`, the org's authentication pipeline
 *   (`idx`: Identity Engine, the default; `v1`: Classic Engine; `pipeline` option); Okta tells no release number;
 * - the org token endpoint accepts private_key_jwt assertions (aud = the token endpoint URL) verified
 *   with the service app's public key, and the `default` custom authorization server
 *   (`/oauth2/default/v1/token`; another id → 404 E0000007) issues client_credentials tokens to the clients
 *   (service or web apps with that grant).
 *
 * Every request the adapter sends and every answer the fake gives are checked against Okta's own OpenAPI documents
 * (release 2026.06.3, pinned in test/vendor: `api`); the tests assert that nothing undescribed was seen. Answers
 * the fault kit gives in the fake's place (an injected 500, 429, reset or hang) are not Okta's and are not checked.
 */
interface App {
  id: string;
  label: string;
  status: 'ACTIVE' | 'INACTIVE';
  created: string;
  lastUpdated: string;
  credentials: { oauthClient: Record<string, unknown> & { client_id: string; token_endpoint_auth_method: string } };
  settings: { oauthClient: Record<string, unknown> & { grant_types: string[]; redirect_uris?: string[] } };
  profile: Record<string, unknown>;
  /** Its client secrets (Okta's secret objects), oldest first. */
  secrets: Secret[];
}

interface Secret {
  id: string;
  status: 'ACTIVE' | 'INACTIVE';
  value: string;
  created: string;
  lastUpdated: string;
}

/** A client as the tests look at it: its RFC 7591 settings (as `/oauth2/v1/clients` shows them), secrets, profile and app. */
export interface FakeClient {
  settings: Record<string, unknown> & { client_id: string; client_name: string; grant_types: string[]; redirect_uris?: string[] };
  /** Its newest ACTIVE secret (what the app's `client_secret` shows). */
  secret: string;
  /** Its secret objects (ids and statuses, oldest first). */
  secrets: Array<{ id: string; status: 'ACTIVE' | 'INACTIVE' }>;
  profile: Record<string, unknown>;
  app: Record<string, unknown>;
}

export interface FakeOktaOptions {
  /** The org's authentication pipeline, as `/.well-known/okta-organization` tells it: `idx` (Identity Engine, default) or `v1` (Classic Engine). */
  pipeline?: string;
  /**
   * What `DELETE /oauth2/v1/clients/{clientId}` answers for a client that is gone: 404 E0000007, as the pinned OAuth
   * 2.0 document (2026.06.3) lists (default), or 401 `invalid_client`, as Okta's former Client Application reference
   * documented.
   */
  unknownClientOnDelete?: 404 | 401;
  /** Where requests and answers are checked (share one across fakes to assert once); default a new one. */
  api?: ApiDescription;
}

export interface FakeOkta {
  /** Okta's pinned API descriptions, checking every request the fake received and every answer it gave. */
  api: ApiDescription;
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  url: string;
  apiToken: string;
  serviceApp: { clientId: string; publicKey: CryptoKey | KeyObject; scopes: string[] };
  requests: string[];
  tokenRequests(): number;
  /** The Okta API scopes granted to the service app from now on. */
  grantScopes(scopes: string[]): void;
  /** The standard admin role types (`APP_ADMIN`, `READ_ONLY_ADMIN`, `CUSTOM`…) of the service app or of the API token's admin; default `['APP_ADMIN']`. */
  setAdminRoles(principal: 'serviceApp' | 'apiToken', types: string[]): void;
  failNext(method: string, pattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Whether a deactivation of an INACTIVE secret is refused (400 E0000001) rather than answered 200; Okta does not document which. */
  refuseRedeactivation(refuse: boolean): void;
  /** Sets a secret's status directly, as an admin in the Admin Console would (or a remove cut short between its two calls). */
  setSecretStatus(clientId: string, secretId: string, status: 'ACTIVE' | 'INACTIVE'): void;
  /** Sets an attribute of the app's profile directly, as an admin in the Admin Console would. */
  setProfileAttribute(clientId: string, name: string, value: string): void;
  client(clientId: string): FakeClient | undefined;
  clientCount(): number;
  createForeignClient(): string;
  /** A client made outside the bridge (no marker) with this label (client_name). */
  createClientNamed(clientName: string): string;
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

let errorIds = 0;
const oktaError = (res: Response, status: number, errorCode: string, errorSummary: string, causes: string[] = []) =>
  void res.status(status).json({
    errorCode,
    errorSummary,
    errorLink: errorCode,
    errorId: `oae${(++errorIds).toString().padStart(8, '0')}`,
    errorCauses: causes.map((summary) => ({ errorSummary: summary })),
  });
const validationFailed = (res: Response, field: string, cause: string): undefined =>
  oktaError(res, 400, 'E0000001', `Api validation failed: ${field}`, [`${field}: ${cause}`]);
const appNotFound = (res: Response, id: string) => oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${id} (AppInstance)`);
const newSecret = () => randomBytes(30).toString('base64url');
const newSecretId = () => `ocs${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;
/** A secret object with this value, ACTIVE unless said otherwise. */
const secretObject = (value: string, status: Secret['status'] = 'ACTIVE'): Secret => {
  const now = new Date().toISOString();
  return { id: newSecretId(), status, value, created: now, lastUpdated: now };
};
const activeSecrets = (app: App) => app.secrets.filter((secret) => secret.status === 'ACTIVE');
/** What the app's `client_secret` shows: its newest ACTIVE secret ("any requests for a secret return the newly generated client secret"). */
const currentSecret = (app: App) => activeSecrets(app).at(-1)?.value ?? '';
const secretApiFailed = (res: Response, cause: string) =>
  oktaError(res, 400, 'E0000001', 'Api validation failed: OAuth2ClientSecretMediated', [cause]);
const newAppId = () => `0oa${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;

/** One page of a list, with the `Link: <…>; rel="next"` header when there is more. */
function page<T extends { id: string }>(req: Request, res: Response, url: string, items: T[], defaultLimit: number): T[] {
  const limit = Math.min(200, Number(req.query.limit ?? defaultLimit));
  const start = typeof req.query.after === 'string' ? items.findIndex((item) => item.id === req.query.after) + 1 : 0;
  const slice = items.slice(start, start + limit);
  const last = slice.at(-1);
  if (last && start + limit < items.length) {
    const next = new URL(req.originalUrl, url);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('after', last.id);
    res.set('link', `<${next.toString()}>; rel="next"`);
  }
  return slice;
}

const ROLE_LABELS: Record<string, string> = {
  SUPER_ADMIN: 'Super Administrator',
  ORG_ADMIN: 'Organization Administrator',
  APP_ADMIN: 'Application Administrator',
  READ_ONLY_ADMIN: 'Read-only Administrator',
  USER_ADMIN: 'Group Administrator',
  CUSTOM: 'Bridge operators',
};
const MANAGING_ROLES = new Set(['SUPER_ADMIN', 'ORG_ADMIN', 'APP_ADMIN', 'CUSTOM']);
const READING_ROLES = new Set([...MANAGING_ROLES, 'READ_ONLY_ADMIN']);

export async function startFakeOkta(
  serviceApp: {
    clientId: string;
    publicKey: CryptoKey | KeyObject;
    scopes: string[];
  },
  options: FakeOktaOptions = {},
): Promise<FakeOkta> {
  const api = options.api ?? createOktaApiDescription();
  const unknownClientOnDelete = options.unknownClientOnDelete ?? 404;
  const orgId = `00o${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`;
  const apiToken = `00${randomBytes(20).toString('base64url')}`;
  const apiTokenAdmin = {
    id: `00u${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 17)}`,
    login: 'bridge.admin@example.com',
  };
  const adminRoles = { serviceApp: ['APP_ADMIN'], apiToken: ['APP_ADMIN'] };
  let grantedScopes = [...serviceApp.scopes];
  const apps = new Map<string, App>();
  const tokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  const kit = createFakeIdpKit();
  let tokenRequests = 0;
  let refuseRedeactivation = false;
  let url = '';

  const appView = (app: App) => ({
    id: app.id,
    name: 'oidc_client',
    label: app.label,
    status: app.status,
    lastUpdated: app.lastUpdated,
    created: app.created,
    accessibility: { selfService: false, errorRedirectUrl: null, loginRedirectUrl: null },
    visibility: { autoLaunch: false, autoSubmitToolbar: false, hide: { iOS: true, web: true }, appLinks: { oidc_client_link: true } },
    features: [],
    signOnMode: 'OPENID_CONNECT',
    credentials: {
      userNameTemplate: { template: '${source.login}', type: 'BUILT_IN' },
      signing: { kid: 'fake-signing-key' },
      oauthClient: { ...app.credentials.oauthClient },
    },
    settings: {
      app: {},
      notifications: { vpn: { network: { connection: 'DISABLED' }, message: null, helpUrl: null } },
      notes: { admin: null, enduser: null },
      oauthClient: { ...app.settings.oauthClient },
    },
    profile: app.profile,
    _links: {
      appLinks: [{ name: 'oidc_client_link', href: `${url}/home/oidc_client/${app.id}/aln5z7uhkbM6y7bMy0g7`, type: 'text/html' }],
      groups: { href: `${url}/api/v1/apps/${app.id}/groups` },
      users: { href: `${url}/api/v1/apps/${app.id}/users` },
      deactivate: { href: `${url}/api/v1/apps/${app.id}/lifecycle/deactivate` },
    },
  });
  /** Create and update answers show the secret. */
  const withSecret = (app: App) => {
    const view = appView(app);
    return {
      ...view,
      credentials: { ...view.credentials, oauthClient: { ...view.credentials.oauthClient, client_secret: currentSecret(app) } },
    };
  };
  /** The same client as `/oauth2/v1/clients` shows it (RFC 7591 shape). */
  const clientView = (app: App): FakeClient['settings'] => {
    const { consent_method: _consent, ...settings } = app.settings.oauthClient;
    return {
      ...settings,
      client_id: app.credentials.oauthClient.client_id,
      client_id_issued_at: Math.floor(Date.parse(app.created) / 1000),
      client_secret_expires_at: 0,
      client_name: app.label,
      token_endpoint_auth_method: app.credentials.oauthClient.token_endpoint_auth_method,
    };
  };

  const app = express();
  app.use(kit.middleware);
  // After the kit: what it answers in the fake's place (an injected outage) is not Okta's answer. The body is read
  // here, not before the kit, which reads a held request's body itself.
  app.use(express.json(), express.urlencoded({ extended: false }), (req, res, next) => {
    const path = req.path;
    api.checkRequest(req.method, path, req.is('json') || req.is('urlencoded') ? req.body : undefined);
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write(chunk, ...rest))) as typeof res.write;
    // The answer as the fake gives it, whether or not a fault then loses it on the way.
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') keep(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      const json = text !== '' && /json/.test(String(res.getHeader('content-type') ?? ''));
      api.checkResponse(req.method, path, res.statusCode, json ? JSON.parse(text) : undefined);
      return end(chunk, ...rest);
    }) as typeof res.end;
    next();
  });

  // No credential needed (`security: []`): the org's id and authentication pipeline, no release number.
  app.get('/.well-known/okta-organization', (_req, res) => {
    res.json({ id: orgId, pipeline: options.pipeline ?? 'idx', _links: { organization: { href: url } } });
  });

  app.post('/oauth2/v1/token', express.urlencoded({ extended: false }), async (req, res) => {
    tokenRequests++;
    const form = req.body as Record<string, string>;
    if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !form.client_assertion) {
      return res.status(401).json({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    }
    try {
      await jwtVerify(form.client_assertion, serviceApp.publicKey, {
        issuer: serviceApp.clientId,
        subject: serviceApp.clientId,
        audience: `${url}/oauth2/v1/token`,
      });
    } catch {
      return res.status(401).json({ error: 'invalid_client', error_description: 'The client_assertion signature is invalid.' });
    }
    const requested = (form.scope ?? '').split(' ').filter(Boolean);
    const denied = requested.filter((scope) => !grantedScopes.includes(scope));
    // Okta authenticates the client first, then refuses the whole request for a scope not granted to it, naming the
    // scopes (as seen from Okta's org authorization server: 400 invalid_scope "The following scopes are not allowed for
    // this request: [okta.apps.manage]."); no token is issued for the granted ones.
    if (denied.length > 0)
      return res.status(400).json({
        error: 'invalid_scope',
        error_description: `The following scopes are not allowed for this request: [${denied.join(', ')}].`,
      });
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, { scopes: requested, expiresAt: Date.now() + 3_600_000 });
    res.json({ token_type: 'Bearer', expires_in: 3600, access_token: token, scope: requested.join(' ') });
  });

  app.post('/oauth2/:authorizationServerId/v1/token', express.urlencoded({ extended: false }), (req, res) => {
    if (req.params.authorizationServerId !== 'default')
      return oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${req.params.authorizationServerId} (AuthorizationServer)`);
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret: secret } = clientCredentials(req.get('authorization'), form);
    const client = apps.get(clientId);
    if (!client || client.status !== 'ACTIVE' || !activeSecrets(client).some((active) => active.value === secret)) {
      return res
        .status(401)
        .json({ error: 'invalid_client', error_description: 'The client secret supplied for a confidential client is invalid.' });
    }
    if (!client.settings.oauthClient.grant_types.includes('client_credentials'))
      return res
        .status(400)
        .json({ error: 'unauthorized_client', error_description: 'The client is not authorized to use the provided grant type.' });
    res.json({ token_type: 'Bearer', expires_in: 3600, access_token: randomBytes(24).toString('base64url') });
  });

  const forbidden = (res: Response) => oktaError(res, 403, 'E0000006', 'You do not have permission to perform the requested action');
  /**
   * A call whose token lacks the endpoint's scope: 403 E0000006, and the scope it needs in WWW-Authenticate (Okta support,
   * "insufficient_scope Error when Making a Request to an OAuth or Management Endpoint").
   */
  const insufficientScope = (req: Request, res: Response, scope: string) => {
    res.set(
      'www-authenticate',
      `Bearer authorization_uri="${url}/oauth2/v1/authorize", realm="${url}", scope="${scope}", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="${req.path}"`,
    );
    forbidden(res);
  };
  /** Admin roles allow the call: reads need a role that may read apps, writes one that may manage them. */
  const roleAllows = (roles: string[], scope: string) =>
    roles.some((role) => (scope.endsWith('.read') ? READING_ROLES : MANAGING_ROLES).has(role));
  const authorize = (scope: string) => (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    if (header === `SSWS ${apiToken}`) return roleAllows(adminRoles.apiToken, scope) ? next() : forbidden(res);
    const bearer = header.match(/^Bearer (.+)$/)?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt < Date.now()) return oktaError(res, 401, 'E0000011', 'Invalid token provided');
    if (!token.scopes.includes(scope)) return insufficientScope(req, res, scope);
    if (!roleAllows(adminRoles.serviceApp, scope)) return forbidden(res);
    next();
  };
  /** The Users API for the API token's own admin only (what the doctor reads); a service app's token lacks its scopes. */
  const apiTokenOnly = (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    if (header === `SSWS ${apiToken}`) return next();
    const bearer = header.match(/^Bearer (.+)$/)?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt < Date.now()) return oktaError(res, 401, 'E0000011', 'Invalid token provided');
    forbidden(res);
  };

  /** Checks an `oidc_client` app body; answers the refusal and returns undefined when Okta would refuse it. */
  function readApp(
    req: Request,
    res: Response,
    except?: string,
  ): (Pick<App, 'label' | 'settings' | 'profile'> & { oauthClient: Record<string, unknown>; method: string }) | undefined {
    const body = req.body as {
      name?: unknown;
      label?: unknown;
      signOnMode?: unknown;
      credentials?: { oauthClient?: Record<string, unknown> };
      settings?: { oauthClient?: Record<string, unknown> };
      profile?: unknown;
    };
    if (body.name !== 'oidc_client') return validationFailed(res, 'name', 'The field cannot be left blank.');
    if (body.signOnMode !== 'OPENID_CONNECT') return validationFailed(res, 'signOnMode', 'The field cannot be left blank.');
    if (typeof body.label !== 'string' || body.label.length < 1 || body.label.length > 100)
      return validationFailed(res, 'label', 'The field must be between 1 and 100 characters.');
    const label = body.label;
    if ([...apps.values()].some((other) => other.id !== except && other.label === label)) {
      return validationFailed(res, 'label', 'An object with this field already exists in the current organization');
    }
    const oauthClient = body.settings?.oauthClient;
    const grants = oauthClient?.grant_types;
    if (!Array.isArray(grants) || grants.length === 0)
      return validationFailed(res, 'settings.oauthClient.grant_types', 'The field cannot be left blank.');
    if (typeof oauthClient?.application_type !== 'string')
      return validationFailed(res, 'settings.oauthClient.application_type', 'The field cannot be left blank.');
    const redirectUris = oauthClient.redirect_uris;
    if (!grants.includes('client_credentials') && !(Array.isArray(redirectUris) && redirectUris.length > 0)) {
      return validationFailed(res, 'settings.oauthClient.redirect_uris', 'A redirect URI is required for this application type.');
    }
    const method = body.credentials?.oauthClient?.token_endpoint_auth_method ?? 'client_secret_basic';
    if (typeof method !== 'string')
      return validationFailed(res, 'credentials.oauthClient.token_endpoint_auth_method', 'The field must be a string.');
    const profile = typeof body.profile === 'object' && body.profile !== null ? (body.profile as Record<string, unknown>) : {};
    // client_id is immutable (the fake does not take a client_id of the caller's choosing on create either).
    const { client_id: _clientId, token_endpoint_auth_method: _method, ...credentials } = body.credentials?.oauthClient ?? {};
    return {
      label,
      method,
      oauthClient: credentials,
      settings: { oauthClient: { ...(oauthClient as App['settings']['oauthClient']) } },
      profile,
    };
  }

  app.post('/api/v1/apps', authorize('okta.apps.manage'), express.json(), (req, res) => {
    const fields = readApp(req, res);
    if (!fields) return;
    const { client_secret: given, ...oauthClient } = fields.oauthClient;
    const id = newAppId();
    const now = new Date().toISOString();
    const created: App = {
      id,
      label: fields.label,
      status: req.query.activate === 'false' ? 'INACTIVE' : 'ACTIVE',
      created: now,
      lastUpdated: now,
      credentials: { oauthClient: { autoKeyRotation: true, ...oauthClient, client_id: id, token_endpoint_auth_method: fields.method } },
      settings: fields.settings,
      profile: fields.profile,
      secrets: [secretObject(typeof given === 'string' ? given : newSecret())],
    };
    apps.set(id, created);
    res.json(withSecret(created));
  });
  // The Client Application API's create (what Kong's example bridge calls; the benchmark runs it against
  // this fake): RFC 7591 metadata in, 201 with the client and its secret out; the client is an app as well.
  app.post('/oauth2/v1/clients', authorize('okta.clients.manage'), express.json(), (req, res) => {
    const body = req.body as {
      client_name?: unknown;
      redirect_uris?: string[];
      grant_types?: string[];
      response_types?: string[];
      token_endpoint_auth_method?: string;
      application_type?: string;
    };
    if (typeof body.client_name !== 'string' || body.client_name === '')
      return res.status(400).json({ error: 'invalid_client_metadata', error_description: 'client_name: The field cannot be left blank.' });
    const id = newAppId();
    const now = new Date().toISOString();
    const created: App = {
      id,
      label: body.client_name,
      status: 'ACTIVE',
      created: now,
      lastUpdated: now,
      credentials: {
        oauthClient: {
          autoKeyRotation: true,
          client_id: id,
          token_endpoint_auth_method: body.token_endpoint_auth_method ?? 'client_secret_basic',
        },
      },
      settings: {
        oauthClient: {
          redirect_uris: body.redirect_uris ?? [],
          grant_types: body.grant_types ?? ['authorization_code'],
          response_types: body.response_types ?? ['code'],
          application_type: body.application_type ?? 'web',
        },
      },
      profile: {},
      secrets: [secretObject(newSecret())],
    };
    apps.set(id, created);
    res.status(201).json({
      client_id: id,
      client_id_issued_at: Math.floor(Date.parse(now) / 1000),
      client_name: created.label,
      client_secret: currentSecret(created),
      client_secret_expires_at: 0,
      ...created.settings.oauthClient,
      token_endpoint_auth_method: created.credentials.oauthClient.token_endpoint_auth_method,
    });
  });
  app.get('/api/v1/apps', authorize('okta.apps.read'), (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.toLowerCase() : undefined;
    const matching = [...apps.values()].filter(
      (item) => q === undefined || item.label.toLowerCase().startsWith(q) || 'oidc_client'.startsWith(q),
    );
    res.json(page(req, res, url, matching, 20).map(appView));
  });
  app.get('/api/v1/apps/:id', authorize('okta.apps.read'), (req, res) => {
    const found = apps.get(String(req.params.id));
    if (!found) return appNotFound(res, String(req.params.id));
    res.json(appView(found));
  });
  app.put('/api/v1/apps/:id', authorize('okta.apps.manage'), express.json(), (req, res) => {
    const found = apps.get(String(req.params.id));
    if (!found) return appNotFound(res, String(req.params.id));
    const fields = readApp(req, res, found.id);
    if (!fields) return;
    const { client_secret: given, ...oauthClient } = fields.oauthClient;
    const methodChanged = fields.method !== found.credentials.oauthClient.token_endpoint_auth_method;
    Object.assign(found, {
      label: fields.label,
      lastUpdated: new Date().toISOString(),
      credentials: { oauthClient: { ...oauthClient, client_id: found.id, token_endpoint_auth_method: fields.method } },
      settings: fields.settings,
      profile: fields.profile,
      secrets: typeof given === 'string' ? [secretObject(given)] : methodChanged ? [secretObject(newSecret())] : found.secrets,
    });
    res.json(withSecret(found));
  });

  app.get('/oauth2/v1/clients', authorize('okta.clients.read'), (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.toLowerCase() : undefined;
    const matching = [...apps.values()].filter((item) => q === undefined || item.label.toLowerCase().startsWith(q));
    res.json(page(req, res, url, matching, 200).map(clientView));
  });
  app.delete('/oauth2/v1/clients/:clientId', authorize('okta.clients.manage'), (req, res) => {
    if (!apps.delete(String(req.params.clientId)))
      return unknownClientOnDelete === 401
        ? res.status(401).json({ error: 'invalid_client', error_description: "Invalid value for 'client_id' parameter." })
        : oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${req.params.clientId} (OAuth2Client)`);
    res.status(204).end();
  });

  const secretView = (app: App, secret: Secret) => {
    const href = `${url}/api/v1/apps/${app.id}/credentials/secrets/${secret.id}`;
    const allow = (method: string) => ({ hints: { allow: [method] } });
    return {
      id: secret.id,
      status: secret.status,
      client_secret: secret.value,
      secret_hash: createHash('sha256').update(secret.value).digest('base64url').slice(0, 22),
      created: secret.created,
      lastUpdated: secret.lastUpdated,
      _links:
        secret.status === 'ACTIVE'
          ? { deactivate: { href: `${href}/lifecycle/deactivate`, ...allow('POST') } }
          : { activate: { href: `${href}/lifecycle/activate`, ...allow('POST') }, delete: { href, ...allow('DELETE') } },
    };
  };
  /** The app and the secret of the path, or a 404 answered. */
  const secretOf = (req: Request, res: Response): { app: App; secret: Secret } | undefined => {
    const found = apps.get(String(req.params.id));
    if (!found) return void appNotFound(res, String(req.params.id));
    const secret = found.secrets.find((candidate) => candidate.id === req.params.secretId);
    if (!secret) return void oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${req.params.secretId} (OAuth2ClientSecret)`);
    return { app: found, secret };
  };
  app.get('/api/v1/apps/:id/credentials/secrets', authorize('okta.apps.read'), (req, res) => {
    const found = apps.get(String(req.params.id));
    if (!found) return appNotFound(res, String(req.params.id));
    res.json(found.secrets.map((secret) => secretView(found, secret)));
  });
  app.post('/api/v1/apps/:id/credentials/secrets', authorize('okta.apps.manage'), express.json(), (req, res) => {
    const found = apps.get(String(req.params.id));
    if (!found) return appNotFound(res, String(req.params.id));
    const body = (req.body ?? {}) as { client_secret?: unknown; status?: unknown };
    const given = body.client_secret;
    if (given !== undefined) {
      if (typeof given !== 'string' || given.length < 14)
        return validationFailed(res, 'client_secret', "'client_secret' must be at least '14' characters long.");
      if (given.length > 100) return validationFailed(res, 'client_secret', "'client_secret' can't be more than '100' characters long.");
      if (!/^[\x20-\x7e]+$/.test(given))
        return validationFailed(res, 'client_secret', "''client_secret'' must only contain printable ASCII: [x20-x7E]+");
    }
    if (found.secrets.length >= 2) return secretApiFailed(res, "You've reached the maximum number of client secrets per client.");
    const secret = secretObject(typeof given === 'string' ? given : newSecret(), body.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE');
    found.secrets.push(secret);
    res.status(201).json(secretView(found, secret));
  });
  app.get('/api/v1/apps/:id/credentials/secrets/:secretId', authorize('okta.apps.read'), (req, res) => {
    const found = secretOf(req, res);
    if (found) res.json(secretView(found.app, found.secret));
  });
  app.post('/api/v1/apps/:id/credentials/secrets/:secretId/lifecycle/deactivate', authorize('okta.apps.manage'), (req, res) => {
    const found = secretOf(req, res);
    if (!found) return;
    const { app: owner, secret } = found;
    if (secret.status === 'INACTIVE' && refuseRedeactivation) return secretApiFailed(res, 'The client secret is already inactive.');
    if (secret.status === 'ACTIVE' && activeSecrets(owner).length === 1)
      return secretApiFailed(res, "You can't deactivate the only active client secret.");
    if (secret.status === 'ACTIVE') Object.assign(secret, { status: 'INACTIVE', lastUpdated: new Date().toISOString() });
    res.json(secretView(owner, secret));
  });
  app.post('/api/v1/apps/:id/credentials/secrets/:secretId/lifecycle/activate', authorize('okta.apps.manage'), (req, res) => {
    const found = secretOf(req, res);
    if (!found) return;
    if (found.secret.status === 'INACTIVE') Object.assign(found.secret, { status: 'ACTIVE', lastUpdated: new Date().toISOString() });
    res.json(secretView(found.app, found.secret));
  });
  app.delete('/api/v1/apps/:id/credentials/secrets/:secretId', authorize('okta.apps.manage'), (req, res) => {
    const found = secretOf(req, res);
    if (!found) return;
    if (found.secret.status === 'ACTIVE')
      return secretApiFailed(res, "You can't delete an active client secret. Deactivate the secret before deleting it.");
    found.app.secrets = found.app.secrets.filter((secret) => secret !== found.secret);
    res.status(204).end();
  });
  app.get('/api/v1/users/me', apiTokenOnly, (_req, res) => {
    res.json({
      id: apiTokenAdmin.id,
      status: 'ACTIVE',
      type: { id: 'oty1234567890abcdef' },
      profile: { login: apiTokenAdmin.login, email: apiTokenAdmin.login, firstName: 'Bridge', lastName: 'Admin' },
      _links: { self: { href: `${url}/api/v1/users/${apiTokenAdmin.id}` } },
    });
  });
  app.get('/api/v1/users/:id/roles', apiTokenOnly, (req, res) => {
    if (req.params.id !== apiTokenAdmin.id)
      return oktaError(res, 404, 'E0000007', `Not found: Resource not found: ${req.params.id} (User)`);
    const now = new Date().toISOString();
    res.json(
      adminRoles.apiToken.map((type, index) => ({
        id: `ra1${index}${type.toLowerCase().replace(/_/g, '')}`,
        label: ROLE_LABELS[type] ?? type,
        type,
        status: 'ACTIVE',
        created: now,
        lastUpdated: now,
        assignmentType: 'USER',
        _links: { assignee: { href: `${url}/api/v1/users/${apiTokenAdmin.id}` } },
      })),
    );
  });
  app.use((_req, res) => oktaError(res, 404, 'E0000022', 'The endpoint does not support the provided HTTP method'));

  function foreignClient(label: string): string {
    const id = `0oaforeign${randomBytes(4).toString('hex')}`;
    const now = new Date().toISOString();
    apps.set(id, {
      id,
      label,
      status: 'ACTIVE',
      created: now,
      lastUpdated: now,
      credentials: { oauthClient: { autoKeyRotation: true, client_id: id, token_endpoint_auth_method: 'client_secret_basic' } },
      settings: {
        oauthClient: {
          grant_types: ['client_credentials'],
          response_types: ['token'],
          application_type: 'service',
          redirect_uris: ['https://foreign.example.com/cb'],
        },
      },
      profile: {},
      secrets: [secretObject(newSecret())],
    });
    return id;
  }

  const server = await listenOnLoopback(app);
  url = server.origin;
  return {
    api,
    url,
    apiToken,
    serviceApp,
    requests: kit.requests,
    faults: kit,
    tokenRequests: () => tokenRequests,
    grantScopes: (scopes) => void (grantedScopes = [...scopes]),
    setAdminRoles: (principal, types) => void (adminRoles[principal] = [...types]),
    failNext: kit.failNext,
    refuseRedeactivation: (refuse) => void (refuseRedeactivation = refuse),
    setSecretStatus(clientId, secretId, status) {
      const secret = apps.get(clientId)?.secrets.find((candidate) => candidate.id === secretId);
      if (!secret) throw new Error(`no secret ${secretId} on ${clientId}`);
      secret.status = status;
    },
    setProfileAttribute(clientId, name, value) {
      const found = apps.get(clientId);
      if (!found) throw new Error(`no app ${clientId}`);
      found.profile = { ...found.profile, [name]: value };
    },
    client(clientId) {
      const found = apps.get(clientId);
      return (
        found && {
          settings: clientView(found),
          secret: currentSecret(found),
          secrets: found.secrets.map(({ id, status }) => ({ id, status })),
          profile: found.profile,
          app: appView(found),
        }
      );
    },
    clientCount: () => apps.size,
    createForeignClient: () => foreignClient('Made in the admin console'),
    createClientNamed: foreignClient,
    async clientCredentials(clientId, clientSecret) {
      const res = await fetch(`${url}/oauth2/default/v1/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'orders' }),
      });
      return res.ok;
    },
    close: server.close,
  };
}
