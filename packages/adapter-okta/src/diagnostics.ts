import {
  settingName,
  type AdapterDiagnostics,
  type DiagnosticCheck,
  type IdpVersion,
  type OperationContext,
  type SettingNames,
} from '@dcr-bridge/core';
import { path, tokenRefusal, type IdpHttpClient, type TokenProvider } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';

export interface OktaDiagnosticsSetup {
  org: string;
  http: IdpHttpClient;
  /** The custom authorization server whose token endpoint the bridge's clients use. */
  authorizationServerId: string;
  /** The Okta API scopes the adapter needs, each with what it needs it for. */
  requiredScopes: ReadonlyArray<readonly [scope: string, use: string]>;
  /** OAuth 2.0 for Okta; undefined with an API token (SSWS), which has no scopes, only its admin's roles. */
  serviceApp?: OktaServiceApp;
  /** How an operator sets each option (`settingNamesOf`), for the fixes; without, the fixes name the options. */
  settingNames?: SettingNames;
}

export interface OktaServiceApp {
  clientId: string;
  /** The scopes the adapter asks for (the `scopes` option, or the default). */
  scopes: readonly string[];
  /** A token provider of the service app asking for exactly these scopes. */
  tokensFor(scopes: string[]): Promise<TokenProvider>;
}

interface OktaRoleAssignment {
  type?: unknown;
  label?: unknown;
  status?: unknown;
}

const ROLE_CHECK = 'permission: Application Administrator role';
const CREDENTIALS = 'admin credentials';

/** The release of Okta's API descriptions (okta/okta-management-openapi-spec) the adapter's traffic is checked against. */
const CHECKED_API_RELEASE = '2026.06.3';
/** The org authentication pipelines (`/.well-known/okta-organization`), each by its product name; the adapter's APIs are the same on both. */
const PIPELINES: Record<string, string> = { idx: 'Identity Engine', v1: 'Classic Engine' };
/** What the adapter supports, as its README's "Supported versions" table says. */
export const SUPPORTED = `Management API v1 (Apps API, application client secrets) and OAuth 2.0 API v1 (clients, tokens) on Identity Engine (idx) and Classic Engine (v1) orgs; checked against Okta's API descriptions ${CHECKED_API_RELEASE}`;
/** Standard admin roles that may create, update and delete OIDC applications (Okta's "Standard roles" table). */
const MANAGING_ROLES = new Set(['SUPER_ADMIN', 'ORG_ADMIN', 'APP_ADMIN']);

/**
 * What `dcr-bridge doctor` checks at Okta. With OAuth 2.0 for Okta, the org authorization server issues a
 * token only for scopes granted to the service app and refuses the request otherwise (`invalid_scope`), so
 * asking for one scope at a time shows each grant without writing anything. The service app's admin role
 * is visible only with `okta.roles.read`, which the bridge does not ask for: reading applications is tried,
 * managing them is left to `--write-test`. An API token acts with the roles of the admin who made it,
 * which Okta lists at `GET /api/v1/users/{id}/roles`.
 */
export function oktaDiagnostics(setup: OktaDiagnosticsSetup): AdapterDiagnostics {
  const { http, serviceApp } = setup;
  const setting = (option: string) => settingName(setup.settingNames, option);
  const serviceAppSettings = () => `${setting('clientId')}, ${setting('privateKey')} and ${setting('keyId')}`;

  async function scopeCheck(app: OktaServiceApp, scope: string, use: string, signal: AbortSignal): Promise<DiagnosticCheck> {
    const name = `permission: ${scope}`;
    if (!app.scopes.includes(scope)) {
      return {
        name,
        result: 'fail',
        detail: `${setting('scopes')} leaves out ${scope}, which the bridge needs to ${use}.`,
        fix: `Add ${scope} to ${setting('scopes')}, or unset ${setting('scopes')} to ask for the default scopes.`,
      };
    }
    try {
      await (await app.tokensFor([scope])).getToken(signal);
      return { name, result: 'pass', detail: `${IDP_NAME} issued service app ${app.clientId} a token with ${scope}.` };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      if (tokenRefusal(error)?.oauthError === 'invalid_scope') {
        return {
          name,
          result: 'fail',
          detail,
          fix: grantScopeFix(app, scope, use),
        };
      }
      return {
        name,
        result: 'fail',
        detail,
        fix: `Check ${serviceAppSettings()}: ${IDP_NAME} issued no token to service app ${app.clientId}.`,
      };
    }
  }

  /**
   * The service app's key, with a token request for the scopes the adapter asks for. Okta authenticates the client
   * before it looks at the scopes: `invalid_scope` ("The following scopes are not allowed for this request: …") means
   * the key was accepted and a scope is not granted, which the scope checks name; `invalid_client` means the key or
   * the client id was refused.
   */
  async function checkCredentials(app: OktaServiceApp, signal: AbortSignal): Promise<DiagnosticCheck[]> {
    try {
      await (await app.tokensFor([...app.scopes])).getToken(signal);
      return [
        {
          name: CREDENTIALS,
          result: 'pass',
          detail: `${IDP_NAME} issued service app ${app.clientId} a token with ${app.scopes.join(', ')}.`,
        },
      ];
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      if (tokenRefusal(error)?.oauthError === 'invalid_scope')
        return [
          {
            name: CREDENTIALS,
            result: 'pass',
            detail: `${IDP_NAME} accepted service app ${app.clientId}'s key but refused a scope it asked for: see permissions.`,
          },
        ];
      const status = tokenRefusal(error)?.status;
      if (status === 400 || status === 401)
        return [
          {
            name: CREDENTIALS,
            result: 'fail',
            detail,
            fix: `Check ${serviceAppSettings()}: ${IDP_NAME} issued no token to service app ${app.clientId} (its public key must be registered on the app, with Public key / Private key client authentication).`,
          },
        ];
      return [{ name: CREDENTIALS, result: 'fail', detail }];
    }
  }

  async function serviceAppRoleCheck(app: OktaServiceApp, signal: AbortSignal): Promise<DiagnosticCheck> {
    const fix = `In the ${IDP_NAME} Admin Console, open application ${app.clientId} → Admin roles, and assign the Application Administrator role.`;
    const read = await http.checkAccess(path`/api/v1/apps`, { name: ROLE_CHECK, fix }, { query: { limit: 1 }, signal });
    if (read.result !== 'pass') return read;
    return {
      name: ROLE_CHECK,
      result: 'skip',
      detail: `Listing applications works (${read.detail}). ${IDP_NAME} shows a service app's admin roles only to a token with okta.roles.read, which the bridge does not ask for: \`dcr-bridge doctor --write-test\` proves the role lets it create, rotate and delete clients.`,
    };
  }

  async function apiTokenRoleCheck(signal: AbortSignal): Promise<DiagnosticCheck> {
    const fix = `Give the admin who created ${setting('apiToken')} the Application Administrator role (Security → Administrators): an API token acts with its admin's current roles.`;
    try {
      const me = await http.get<{ id?: unknown }>(path`/api/v1/users/me`, { signal });
      if (me.status === 401)
        return {
          name: ROLE_CHECK,
          result: 'fail',
          detail: http.errorFromResponse(me, "reading the API token's admin").message,
          fix: `${setting('apiToken')} was refused: create a new API token (Security → API → Tokens) and set it.`,
        };
      if (!me.ok || typeof me.body?.id !== 'string')
        return { name: ROLE_CHECK, result: 'fail', detail: http.errorFromResponse(me, "reading the API token's admin").message };
      const listed = await http.get<OktaRoleAssignment[]>(path`/api/v1/users/${me.body.id}/roles`, { signal });
      if (listed.status === 403) {
        return {
          name: ROLE_CHECK,
          result: 'skip',
          detail: `${IDP_NAME} does not let this API token list its admin's roles (HTTP 403). \`dcr-bridge doctor --write-test\` proves them.`,
        };
      }
      if (!listed.ok || !Array.isArray(listed.body))
        return { name: ROLE_CHECK, result: 'fail', detail: http.errorFromResponse(listed, "listing the API token's admin roles").message };
      const active = listed.body.filter((role) => role.status === undefined || role.status === 'ACTIVE');
      const seen = `The API token's admin has ${active.length > 0 ? active.map((role) => `${String(role.label ?? role.type)} (${String(role.type)})`).join(', ') : 'no admin role'}.`;
      if (active.some((role) => typeof role.type === 'string' && MANAGING_ROLES.has(role.type)))
        return { name: ROLE_CHECK, result: 'pass', detail: seen };
      if (active.some((role) => role.type === 'CUSTOM')) {
        return {
          name: ROLE_CHECK,
          result: 'skip',
          detail: `${seen} What a custom role allows is not checked here: \`dcr-bridge doctor --write-test\` proves it.`,
        };
      }
      return {
        name: ROLE_CHECK,
        result: 'fail',
        detail: `${seen} Creating and deleting OAuth clients needs Application Administrator (APP_ADMIN), or Org or Super Administrator.`,
        fix,
      };
    } catch (error) {
      return { name: ROLE_CHECK, result: 'fail', detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * Okta is a hosted service released to every org by Okta (monthly, `YYYY.MM.N`) and tells no release through its
   * API: the org's metadata (`GET /.well-known/okta-organization`, no credential needed) names its authentication
   * pipeline only, the one generation an org tells. The APIs the adapter calls are versioned in their paths (`/api/v1`,
   * `/oauth2/v1`) and the same on both pipelines; a pipeline the adapter does not know is outside what it supports.
   */
  async function idpVersion(context: OperationContext): Promise<IdpVersion> {
    const base = { product: IDP_NAME, supported: SUPPORTED };
    const told = `${IDP_NAME} tells no release number through its API`;
    try {
      const response = await http.get<{ pipeline?: unknown }>(path`/.well-known/okta-organization`, { signal: context.signal });
      const pipeline = response.body?.pipeline;
      if (!response.ok || typeof pipeline !== 'string')
        return { ...base, detail: `${told}; GET /.well-known/okta-organization answered ${response.status} without the org's pipeline` };
      const name = PIPELINES[pipeline];
      if (name === undefined)
        return {
          ...base,
          withinSupported: false,
          detail: `${told}; GET /.well-known/okta-organization names pipeline "${pipeline}", which the adapter does not know (idx or v1)`,
        };
      return {
        ...base,
        withinSupported: true,
        detail: `${told}; GET /.well-known/okta-organization: pipeline ${pipeline} (${name})`,
      };
    } catch (error) {
      return {
        ...base,
        detail: `${told}; GET /.well-known/okta-organization failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  return {
    adminUrl: setup.org,
    idpVersion,
    async checkPermissions(context: OperationContext) {
      if (!serviceApp) return [await apiTokenRoleCheck(context.signal)];
      const scopes = await Promise.all(setup.requiredScopes.map(([scope, use]) => scopeCheck(serviceApp, scope, use, context.signal)));
      // The role is read with the adapter's token, which Okta issues only once every scope it asks for is granted.
      const missing = scopes.filter((check) => check.result === 'fail').map((check) => check.name);
      if (missing.length > 0)
        return [
          ...scopes,
          {
            name: ROLE_CHECK,
            result: 'skip',
            detail: `Not checked: it needs the bridge's token, which ${IDP_NAME} issues only with every scope granted (${missing.join(', ')} failed above).`,
          },
        ];
      return [...scopes, await serviceAppRoleCheck(serviceApp, context.signal)];
    },
    ...(serviceApp ? { checkCredentials: (context: OperationContext) => checkCredentials(serviceApp, context.signal) } : {}),
    tokenEndpoint: async () => `${setup.org}${path`/oauth2/${setup.authorizationServerId}`}/v1/token`,
  };
}

/** Where an Okta API scope is granted to a service app (Okta's "Implement OAuth for Okta with a service app": Grant allowed scopes). */
function grantScopeFix(app: OktaServiceApp, scope: string, use: string): string {
  return `Grant ${scope} to the service app in the ${IDP_NAME} Admin Console: Applications → Applications → ${app.clientId} → ${IDP_NAME} API Scopes → Grant (needed to ${use}).`;
}
