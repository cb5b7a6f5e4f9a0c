import type { AdapterDiagnostics, DiagnosticCheck, OperationContext } from '@dcr-bridge/core';
import { path, type IdpHttpClient, type TokenProvider } from '@dcr-bridge/core/idp';

export interface KeycloakDiagnosticsSetup {
  http: IdpHttpClient;
  tokens: TokenProvider;
  /** Server base URL, without a trailing slash. */
  baseUrl: string;
  realm: string;
  tokenRealm: string;
  clientId: string;
}

interface AdminTokenClaims {
  sub?: unknown;
  resource_access?: Record<string, { roles?: unknown } | undefined>;
}

const MANAGE = 'permission: manage-clients';
const VIEW = 'permission: view-clients';

/**
 * What `dcr-bridge doctor` checks at Keycloak. The admin API decides on the roles the admin access token
 * carries (`MgmtPermissions` builds its identity from the token), and Keycloak puts them into the token with
 * composite roles expanded, so the token itself shows every permission the bridge has, read-only. A
 * lightweight access token carries no roles (no `sub` either, which is how Keycloak tells one apart): then
 * reading is proven with one GET and managing is left to `--write-test`.
 */
export function keycloakDiagnostics(setup: KeycloakDiagnosticsSetup): AdapterDiagnostics {
  // The client whose roles grant admin rights over `realm`: its own realm-management, or `<realm>-realm` in master.
  const managementClient = setup.tokenRealm === setup.realm ? 'realm-management' : `${setup.realm}-realm`;
  const grant = (role: string) =>
    `In realm ${setup.tokenRealm}, open client ${setup.clientId} → Service account roles → Assign role → Filter by clients, and assign ${managementClient} ${role}.`;
  const manageFix = grant('manage-clients');
  const viewFix = `${grant('manage-clients')} (view-clients alone lets the bridge read but not create.)`;

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    let token: string;
    try {
      token = await setup.tokens.getToken(context.signal);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const fix = `Check KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET: client ${setup.clientId} of realm ${setup.tokenRealm} needs Client authentication and Service accounts roles on.`;
      return [MANAGE, VIEW].map((name) => ({ name, result: 'fail', detail: `No admin token: ${detail}`, fix }));
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

  return {
    adminUrl: setup.baseUrl,
    checkPermissions,
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
