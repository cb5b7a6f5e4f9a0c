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

/** The Keycloak versions the adapter supports (README, "Supported versions"): majors 24 to 26. */
export const SUPPORTED_VERSIONS = '24 – 26';
const SUPPORTED_MAJORS = { from: 24, to: 26 };

/** Whether a version Keycloak tells (`26.6.0`, `26.0.15.redhat-00001`) is within SUPPORTED_VERSIONS; undefined when it is no version. */
export function withinSupported(version: string): boolean | undefined {
  const major = /^(\d+)\.\d+/.exec(version)?.[1];
  if (major === undefined) return undefined;
  return Number(major) >= SUPPORTED_MAJORS.from && Number(major) <= SUPPORTED_MAJORS.to;
}

export interface KeycloakDiagnosticsSetup {
  http: IdpHttpClient;
  tokens: TokenProvider;
  /** Server base URL, without a trailing slash. */
  baseUrl: string;
  realm: string;
  tokenRealm: string;
  clientId: string;
  /** How an operator sets each option (`settingNamesOf`), for the fixes; without, the fixes name the options. */
  settingNames?: SettingNames;
}

interface AdminTokenClaims {
  sub?: unknown;
  resource_access?: Record<string, { roles?: unknown } | undefined>;
}

const MANAGE = 'permission: manage-clients';
const VIEW = 'permission: view-clients';
const CREDENTIALS = 'admin credentials';

/**
 * What `dcr-bridge doctor` checks at Keycloak. The admin API decides on the roles the admin access token
 * carries (`MgmtPermissions` builds its identity from the token), and Keycloak puts them into the token with
 * composite roles expanded, so the token itself shows every permission the bridge has, read-only. A
 * lightweight access token carries no roles (no `sub` either, which is how Keycloak tells one apart): then
 * reading is proven with one GET and managing is left to `--write-test`.
 */
export function keycloakDiagnostics(setup: KeycloakDiagnosticsSetup): AdapterDiagnostics {
  const setting = (option: string) => settingName(setup.settingNames, option);
  // The client whose roles grant admin rights over `realm`: its own realm-management, or `<realm>-realm` in master.
  const managementClient = setup.tokenRealm === setup.realm ? 'realm-management' : `${setup.realm}-realm`;
  const grant = (role: string) =>
    `In realm ${setup.tokenRealm}, open client ${setup.clientId} → Service account roles → Assign role → Filter by clients, and assign ${managementClient} ${role}.`;
  const manageFix = grant('manage-clients');
  const viewFix = `${grant('manage-clients')} (view-clients alone lets the bridge read but not create.)`;

  const realmCheck = (realm: string) => `realm ${realm}`;

  /**
   * Why no admin token came, as one check with the fix for that cause. Keycloak answers a token request to a realm it
   * does not have with 404 {"error":"Realm does not exist"} (RealmsResource), and refused client credentials with 401.
   */
  function tokenProblem(error: unknown): DiagnosticCheck {
    const detail = error instanceof Error ? error.message : String(error);
    const status = tokenRefusal(error)?.status;
    if (status === 404) {
      const fix =
        setup.tokenRealm === setup.realm
          ? `Check ${setting('realm')}: Keycloak at ${setup.baseUrl} has no realm "${setup.tokenRealm}" (realm names are case-sensitive). If the bridge's client lives in another realm (master), set ${setting('tokenRealm')} to it.`
          : `Check ${setting('tokenRealm')}, the realm of the bridge's client ${setup.clientId}: Keycloak at ${setup.baseUrl} has no realm "${setup.tokenRealm}" (realm names are case-sensitive).`;
      return { name: realmCheck(setup.tokenRealm), result: 'fail', detail: `The realm does not exist: ${detail}`, fix };
    }
    // Anything but an OAuth refusal (400 invalid_client, 401 unauthorized_client) is the IdP failing, not the settings.
    if (status !== 400 && status !== 401) return { name: CREDENTIALS, result: 'fail', detail: `No admin token: ${detail}` };
    return {
      name: CREDENTIALS,
      result: 'fail',
      detail: `No admin token: ${detail}`,
      fix: `The admin credentials were refused: check ${setting('clientId')} and ${setting('clientSecret')}. Client ${setup.clientId} of realm ${setup.tokenRealm} needs Client authentication and Service accounts roles on.`,
    };
  }

  /**
   * An admin token from the token realm, then the realm the clients live in: the admin API answers 404 for a realm it
   * does not have before it looks at any permission (RealmsAdminResource), so any other answer shows the realm exists.
   */
  async function checkCredentials(context: OperationContext): Promise<DiagnosticCheck[]> {
    try {
      await setup.tokens.getToken(context.signal);
    } catch (error) {
      return [tokenProblem(error)];
    }
    const credentials: DiagnosticCheck = {
      name: CREDENTIALS,
      result: 'pass',
      detail: `${IDP_NAME} issued client ${setup.clientId} of realm ${setup.tokenRealm} an admin token.`,
    };
    if (setup.realm === setup.tokenRealm)
      return [credentials, { name: realmCheck(setup.realm), result: 'pass', detail: 'The admin token came from it.' }];
    try {
      const response = await setup.http.get(path`/admin/realms/${setup.realm}/clients`, {
        query: { first: 0, max: 1 },
        signal: context.signal,
      });
      if (response.status !== 404)
        return [credentials, { name: realmCheck(setup.realm), result: 'pass', detail: `Its admin API answered ${response.status}.` }];
      return [
        credentials,
        {
          name: realmCheck(setup.realm),
          result: 'fail',
          detail: `The realm does not exist: ${setup.http.errorFromResponse(response, 'listing its clients').message}`,
          fix: `Check ${setting('realm')}, the realm the bridge creates clients in: Keycloak at ${setup.baseUrl} has no realm "${setup.realm}" (realm names are case-sensitive).`,
        },
      ];
    } catch (error) {
      return [
        credentials,
        { name: realmCheck(setup.realm), result: 'fail', detail: error instanceof Error ? error.message : String(error) },
      ];
    }
  }

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    let token: string;
    try {
      token = await setup.tokens.getToken(context.signal);
    } catch (error) {
      const { detail, fix } = tokenProblem(error);
      return [MANAGE, VIEW].map((name) => ({ name, result: 'fail', detail, ...(fix ? { fix } : {}) }));
    }
    const claims = decodeClaims(token);
    if (claims === undefined || claims.sub === undefined) {
      const why = claims === undefined ? 'the admin token is not a JWT' : 'the admin token is a lightweight access token, without roles';
      return [
        { name: MANAGE, result: 'skip', detail: `Not visible: ${why}. \`dcr-bridge doctor --write-test\` proves it.` },
        await setup.http.checkAccess(
          path`/admin/realms/${setup.realm}/clients`,
          { name: VIEW, fix: viewFix },
          { query: { first: 0, max: 1 }, signal: context.signal },
        ),
      ];
    }
    const granted = rolesOf(claims, managementClient);
    const seen = `The admin token's ${managementClient} roles: ${granted.length > 0 ? granted.join(', ') : 'none'}.`;
    const canManage = granted.includes('manage-clients');
    const canView = canManage || granted.includes('view-clients');
    return [
      canManage
        ? { name: MANAGE, result: 'pass', detail: seen }
        : {
            name: MANAGE,
            result: 'fail',
            detail: `${seen} Creating, rotating, updating and deleting clients needs manage-clients.`,
            fix: manageFix,
          },
      canView
        ? { name: VIEW, result: 'pass', detail: canManage ? `Granted through manage-clients. ${seen}` : seen }
        : {
            name: VIEW,
            result: 'fail',
            detail: `${seen} Reading clients and client scopes needs view-clients or manage-clients.`,
            fix: viewFix,
          },
    ];
  }

  /**
   * `GET /admin/serverinfo` → `systemInfo.version` (one read; Keycloak's answer also lists every provider and theme, about
   * 1 MB). Keycloak 26.4 and later leave `systemInfo` out for admins outside the administrator realm (master); 26.5.4 and
   * later give the version back to a realm admin holding manage-realm, which the bridge must not have. So the version is
   * told when the bridge's client lives in master (its token realm is `master`) or Keycloak is older than 26.4.
   */
  async function idpVersion(context: OperationContext): Promise<IdpVersion> {
    const response = await setup.http.get<{ systemInfo?: { version?: unknown } } | undefined>(path`/admin/serverinfo`, {
      signal: context.signal,
    });
    if (response.status === 401 || response.status === 403)
      return {
        product: IDP_NAME,
        supported: SUPPORTED_VERSIONS,
        detail: `GET /admin/serverinfo answered ${response.status}: the admin token may not read the server info`,
      };
    if (!response.ok) throw setup.http.errorFromResponse(response, 'reading the server info');
    const version = response.body?.systemInfo?.version;
    if (typeof version !== 'string' || version === '')
      return {
        product: IDP_NAME,
        supported: SUPPORTED_VERSIONS,
        detail:
          `GET /admin/serverinfo answered without systemInfo.version: Keycloak 26.4 and later tell it only to administrators of the master realm ` +
          `(and, from 26.5.4, of a realm's manage-realm holders), and the bridge's client is in realm ${setup.tokenRealm}. ` +
          `The admin API calls the adapter makes are the same from 24 to 26.6; check the server's version in its admin console or log`,
      };
    const within = withinSupported(version);
    return {
      product: IDP_NAME,
      version,
      supported: SUPPORTED_VERSIONS,
      ...(within === undefined ? {} : { withinSupported: within }),
      detail:
        within === undefined
          ? 'systemInfo.version of GET /admin/serverinfo, in no format the adapter knows'
          : 'systemInfo.version of GET /admin/serverinfo',
    };
  }

  return {
    adminUrl: setup.baseUrl,
    checkCredentials,
    checkPermissions,
    idpVersion,
    tokenEndpoint: async () => `${setup.baseUrl}${path`/realms/${setup.realm}`}/protocol/openid-connect/token`,
  };
}

/** The claims of a JWT, unverified: the token came straight from Keycloak's token endpoint, and only its roles are read. */
function decodeClaims(token: string): AdminTokenClaims | undefined {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as AdminTokenClaims) : undefined;
  } catch {
    return undefined;
  }
}

function rolesOf(claims: AdminTokenClaims, client: string): string[] {
  const roles = claims.resource_access?.[client]?.roles;
  return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
}
