import { Pool } from 'undici';

/**
 * The floor of `pnpm bench`: for each adapter, the very IdP calls the bridge makes for each Konnect
 * operation (the ones its README's round-trip table lists, with ownership remembered), made straight at the
 * stub with a plain undici pool. The bridge's latency minus this is what the bridge adds.
 */
export interface DirectClient {
  id: string;
  [field: string]: string;
}

export interface DirectCalls {
  create(): Promise<DirectClient>;
  rotate(client: DirectClient): Promise<void>;
  update(client: DirectClient, redirectUris: string[]): Promise<void>;
  delete(client: DirectClient): Promise<void>;
  close(): Promise<void>;
}

/** Admin token requests, which the round-trip counts leave aside (one per token lifetime). */
export function isTokenRequest(line: string): boolean {
  return /\/(token|as\/token)(\?|$)| \/protocol\/openid-connect\/token/.test(line) || line.endsWith('/token');
}

type Answer = Record<string, unknown>;

function http(origin: string, connections: number) {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  /** One call answered `expected`: its parsed body and its headers. */
  const exchange = async (method: string, path: string, headers: Record<string, string>, expected: number, body?: unknown) => {
    const response = await pool.request({
      method: method as 'GET',
      path,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode !== expected) throw new Error(`${method} ${path}: HTTP ${response.statusCode} ${text.slice(0, 200)}`);
    return { body: text ? (JSON.parse(text) as Answer) : {}, headers: response.headers };
  };
  const call = async (...args: Parameters<typeof exchange>): Promise<Answer> => (await exchange(...args)).body;
  return { call, exchange, close: () => pool.close() };
}

/** An admin token by client_credentials (HTTP Basic), as the adapters get theirs. */
async function adminToken(tokenEndpoint: string, clientId: string, clientSecret: string): Promise<string> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  if (!response.ok) throw new Error(`admin token: HTTP ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

const marker = 'dcr-bridge: managed';

let sequence = 0;
const uniqueName = () => `Bench app ${process.pid}-${++sequence}`;

export async function directCalls(
  adapter: string,
  env: Record<string, string>,
  application: Record<string, unknown>,
  connections: number,
): Promise<DirectCalls> {
  switch (adapter) {
    case 'rfc7591':
      return rfc7591(env, connections);
    case 'okta':
      return okta(env, connections);
    case 'pingone':
      return pingOne(env, connections);
    case 'pingfederate':
      return pingFederate(env, connections);
    case 'keycloak':
      return keycloak(env, connections);
    case 'cognito':
      return cognito(env, application, connections);
    default:
      throw new Error(`no floor scenario for ${adapter}`);
  }
}

function rfc7591(env: Record<string, string>, connections: number): DirectCalls {
  const endpoint = new URL(env.RFC7591_REGISTRATION_ENDPOINT as string);
  const { call, close } = http(endpoint.origin, connections);
  const metadata = {
    redirect_uris: ['https://app.example.com/cb'],
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
    application_type: 'web',
  };
  const auth = (client: DirectClient) => ({ authorization: `Bearer ${client.token}` });
  const path = (client: DirectClient) => new URL(client.uri as string).pathname;
  return {
    async create() {
      const created = await call('POST', endpoint.pathname, {}, 201, { ...metadata, client_name: uniqueName() });
      return {
        id: String(created.client_id),
        token: String(created.registration_access_token),
        uri: String(created.registration_client_uri),
      };
    },
    async rotate(client) {
      const current = await call('GET', path(client), auth(client), 200);
      const { client_secret: _secret, ...rest } = current;
      client.token = String((await call('PUT', path(client), auth(client), 200, rest)).registration_access_token);
    },
    async update(client, redirectUris) {
      const current = await call('GET', path(client), auth(client), 200);
      client.token = String(
        (await call('PUT', path(client), auth(client), 200, { ...current, redirect_uris: redirectUris })).registration_access_token,
      );
    },
    async delete(client) {
      await call('DELETE', path(client), auth(client), 204);
    },
    close,
  };
}

function okta(env: Record<string, string>, connections: number): DirectCalls {
  const { call, close } = http(env.OKTA_DOMAIN as string, connections);
  const auth = { authorization: `SSWS ${env.OKTA_API_TOKEN}`, accept: 'application/json' };
  return {
    async create() {
      const created = await call('POST', '/api/v1/apps', auth, 200, {
        name: 'oidc_client',
        label: uniqueName(),
        signOnMode: 'OPENID_CONNECT',
        credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_post' } },
        settings: {
          oauthClient: {
            redirect_uris: ['https://app.example.com/cb'],
            grant_types: ['client_credentials'],
            response_types: ['token'],
            application_type: 'service',
          },
        },
        profile: { dcrBridge: { managed: true } },
      });
      return { id: String(created.id) };
    },
    async rotate(client) {
      // Two-phase, as the adapter rotates (issue 20): list, add, then the old secret deactivated and deleted
      // (Okta deletes only an INACTIVE secret).
      const secrets = `/api/v1/apps/${client.id}/credentials/secrets`;
      const listed = (await call('GET', secrets, auth, 200)) as unknown as Array<{ id: string; status: string }>;
      await call('POST', secrets, auth, 201, {});
      for (const old of listed.filter((secret) => secret.status === 'ACTIVE')) {
        await call('POST', `${secrets}/${old.id}/lifecycle/deactivate`, auth, 200);
        await call('DELETE', `${secrets}/${old.id}`, auth, 204);
      }
    },
    async update(client, redirectUris) {
      const current = await call('GET', `/api/v1/apps/${client.id}`, auth, 200);
      const settings = current.settings as { oauthClient: Answer };
      await call('PUT', `/api/v1/apps/${client.id}`, auth, 200, {
        ...current,
        settings: { ...settings, oauthClient: { ...settings.oauthClient, redirect_uris: redirectUris } },
      });
    },
    async delete(client) {
      await call('DELETE', `/oauth2/v1/clients/${client.id}`, auth, 204);
    },
    close,
  };
}

async function pingOne(env: Record<string, string>, connections: number): Promise<DirectCalls> {
  const api = new URL(env.PINGONE_API_URL as string);
  const { call, close } = http(api.origin, connections);
  const token = await adminToken(
    `${env.PINGONE_AUTH_URL}/${env.PINGONE_ENVIRONMENT_ID}/as/token`,
    env.PINGONE_CLIENT_ID as string,
    env.PINGONE_CLIENT_SECRET as string,
  );
  const auth = { authorization: `Bearer ${token}` };
  const applications = `${api.pathname.replace(/\/$/, '')}/environments/${env.PINGONE_ENVIRONMENT_ID}/applications`;
  return {
    async create() {
      const created = await call('POST', applications, auth, 201, {
        name: uniqueName(),
        description: marker,
        enabled: true,
        type: 'WEB_APP',
        protocol: 'OPENID_CONNECT',
        grantTypes: ['CLIENT_CREDENTIALS'],
        responseTypes: [],
        redirectUris: ['https://app.example.com/cb'],
        tokenEndpointAuthMethod: 'CLIENT_SECRET_POST',
      });
      await call('GET', `${applications}/${created.id}/secret`, auth, 200);
      return { id: String(created.id) };
    },
    async rotate(client) {
      await call('POST', `${applications}/${client.id}/secret`, auth, 200);
    },
    async update(client, redirectUris) {
      const current = await call('GET', `${applications}/${client.id}`, auth, 200);
      await call('PUT', `${applications}/${client.id}`, auth, 200, { ...current, redirectUris });
    },
    async delete(client) {
      await call('DELETE', `${applications}/${client.id}`, auth, 204);
    },
    close,
  };
}

function pingFederate(env: Record<string, string>, connections: number): DirectCalls {
  const admin = new URL(env.PINGFEDERATE_ADMIN_URL as string);
  const { call, close } = http(admin.origin, connections);
  const auth = {
    authorization: `Basic ${Buffer.from(`${env.PINGFEDERATE_ADMIN_USERNAME}:${env.PINGFEDERATE_ADMIN_PASSWORD}`).toString('base64')}`,
    'x-xsrf-header': 'PingFederate',
  };
  const clients = `${admin.pathname.replace(/\/$/, '')}/oauth/clients`;
  return {
    async create() {
      const clientId = `bench-${process.pid}-${++sequence}`;
      await call('POST', clients, auth, 201, {
        clientId,
        name: 'Bench app',
        description: marker,
        enabled: true,
        grantTypes: ['CLIENT_CREDENTIALS'],
        redirectUris: ['https://app.example.com/cb'],
        restrictScopes: false,
        restrictedScopes: [],
        clientAuth: { type: 'SECRET', secret: 'bench-secret-0123456789abcdef', secondarySecrets: [] },
      });
      return { id: clientId };
    },
    async rotate(client) {
      await call('PUT', `${clients}/${client.id}/clientAuth/clientSecret`, auth, 200, {
        secret: `bench-secret-${++sequence}-0123456789`,
        secondarySecrets: [],
      });
    },
    async update(client, redirectUris) {
      const current = await call('GET', `${clients}/${client.id}`, auth, 200);
      await call('PUT', `${clients}/${client.id}`, auth, 200, { ...current, redirectUris });
    },
    async delete(client) {
      await call('DELETE', `${clients}/${client.id}`, auth, 204);
    },
    close,
  };
}

async function keycloak(env: Record<string, string>, connections: number): Promise<DirectCalls> {
  const base = new URL(env.KEYCLOAK_URL as string);
  const { call, exchange, close } = http(base.origin, connections);
  const root = base.pathname.replace(/\/$/, '');
  const token = await adminToken(
    `${base.href.replace(/\/$/, '')}/realms/${env.KEYCLOAK_TOKEN_REALM}/protocol/openid-connect/token`,
    env.KEYCLOAK_CLIENT_ID as string,
    env.KEYCLOAK_CLIENT_SECRET as string,
  );
  const auth = { authorization: `Bearer ${token}` };
  const clients = `${root}/admin/realms/${env.KEYCLOAK_REALM}/clients`;
  return {
    async create() {
      // Keycloak answers the create 201 with an empty body and the internal id in Location.
      const { headers } = await exchange('POST', clients, auth, 201, {
        clientId: `bench-${process.pid}-${++sequence}`,
        name: 'Bench app',
        enabled: true,
        protocol: 'openid-connect',
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        serviceAccountsEnabled: true,
        standardFlowEnabled: false,
        redirectUris: ['https://app.example.com/cb'],
        secret: 'bench-secret-0123456789abcdef',
        attributes: { 'dcr-bridge.managed': 'true' },
      });
      if (typeof headers.location !== 'string') throw new Error('create: no Location header');
      return { id: headers.location.split('/').pop() as string };
    },
    async rotate(client) {
      await call('POST', `${clients}/${client.id}/client-secret`, auth, 200);
    },
    async update(client, redirectUris) {
      await call('PUT', `${clients}/${client.id}`, auth, 204, { redirectUris });
    },
    async delete(client) {
      await call('DELETE', `${clients}/${client.id}`, auth, 204);
    },
    close,
  };
}

function cognito(env: Record<string, string>, application: Record<string, unknown>, connections: number): DirectCalls {
  const { call, close } = http(env.COGNITO_ENDPOINT as string, connections);
  const action = (name: string, body: Record<string, unknown>) =>
    call(
      'POST',
      '/',
      {
        'x-amz-target': `AWSCognitoIdentityProviderService.${name}`,
        'content-type': 'application/x-amz-json-1.1',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/local/cognito-idp/aws4_request',
      },
      200,
      { UserPoolId: env.COGNITO_USER_POOL_ID, ...body },
    );
  return {
    async create() {
      const created = (await action('CreateUserPoolClient', {
        ClientName: `dcr-bridge-bench-${process.pid}-${++sequence}`,
        GenerateSecret: true,
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthScopes: application.scopes,
        CallbackURLs: ['https://app.example.com/cb'],
        ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
        EnableTokenRevocation: true,
        PreventUserExistenceErrors: 'ENABLED',
      })) as { UserPoolClient: { ClientId: string } };
      return { id: created.UserPoolClient.ClientId };
    },
    async rotate(client) {
      // The first rotation of a client: list its secret, add one, delete the old one.
      const listed = (await action('ListUserPoolClientSecrets', { ClientId: client.id })) as {
        ClientSecrets: Array<{ ClientSecretId: string }>;
      };
      await action('AddUserPoolClientSecret', { ClientId: client.id });
      for (const secret of listed.ClientSecrets)
        await action('DeleteUserPoolClientSecret', { ClientId: client.id, ClientSecretId: secret.ClientSecretId });
    },
    async update(client, redirectUris) {
      const described = (await action('DescribeUserPoolClient', { ClientId: client.id })) as { UserPoolClient: Record<string, unknown> };
      const { ClientSecret: _secret, CreationDate: _created, LastModifiedDate: _modified, ...settings } = described.UserPoolClient;
      await action('UpdateUserPoolClient', { ...settings, CallbackURLs: redirectUris });
    },
    async delete(client) {
      await action('DeleteUserPoolClient', { ClientId: client.id });
    },
    close,
  };
}
