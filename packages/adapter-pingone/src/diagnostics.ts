import {
  settingName,
  type AdapterDiagnostics,
  type DiagnosticCheck,
  type IdpVersion,
  type OperationContext,
  type SettingNames,
} from '@dcr-bridge/core';
import { path, type IdpHttpClient } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';

export interface PingOneDiagnosticsSetup {
  http: IdpHttpClient;
  /** The Platform API base URL, e.g. https://api.pingone.eu/v1. */
  apiUrl: string;
  /** The environment's authorization server, `{auth}/{environmentId}/as`. */
  issuer: string;
  environmentId: string;
  /** The worker application's id (its client id). */
  workerId: string;
  /** How an operator sets each option (`settingNamesOf`), for the fixes; without, the fixes name the options. */
  settingNames?: SettingNames;
}

interface Collection<T> {
  _embedded?: Record<string, T[] | undefined>;
}

interface RoleAssignment {
  role?: { id?: unknown };
  scope?: { id?: unknown; type?: unknown };
}

interface Role {
  id?: unknown;
  name?: unknown;
  permissions?: Array<{ id?: unknown }>;
}

/** The PingOne permissions the adapter uses, each with what for (PingOne's permission identifiers). */
const REQUIRED_PERMISSIONS = [
  ['applications:read:application', 'read an application (ownership marker) and find a create cut short'],
  ['applications:create:application', 'create applications'],
  ['applications:update:application', 'replace redirect URIs (update_application)'],
  ['applications:delete:application', 'delete applications'],
  ['applications:read:secret', 'read the secret of a new application'],
  ['applications:update:secret', 'rotate secrets'],
  ['applications:delete:secret', "end an application's previous secret once Konnect has the new one"],
  ['applications:create:grant', 'grant the requested scopes'],
  ['resources:read:resource', 'look the requested scopes up'],
  ['resources:read:scope', 'look the requested scopes up'],
] as const;

/**
 * What `dcr-bridge doctor` checks at PingOne. A worker's access comes from its role assignments, which the
 * Platform API lists (`…/applications/{id}/roleAssignments`, roles by id), and the built-in roles list their
 * permissions (`GET /roles`): each permission the adapter uses is looked up in the roles the worker holds for
 * this environment, so a missing write permission is found without writing. A custom role's permissions are
 * not read (skip: `--write-test`); when PingOne will not show the assignments, reading applications is
 * proven with one GET and the rest is left to `--write-test`.
 */
/** The API generation the adapter supports (README, "Supported versions"). */
export const SUPPORTED_API = 'Platform API v1';

/**
 * PingOne is a hosted service, upgraded by Ping for every tenant at once: it tells no product version (the
 * Platform API has no version endpoint, and its description's `info.version` is a date, 2023-06-29, not
 * something a tenant answers). What the adapter can tell is the API generation, from the path of the API
 * base URL (`…/v1`), without an IdP call.
 */
export function pingOneApiGeneration(apiUrl: string): IdpVersion {
  const generation = /\/(v\d+)\/?$/.exec(new URL(apiUrl).pathname)?.[1];
  return {
    product: IDP_NAME,
    supported: SUPPORTED_API,
    ...(generation === undefined ? {} : { withinSupported: generation === 'v1' }),
    detail:
      generation === undefined
        ? `a hosted service with no version endpoint; the API base URL ${apiUrl} names no API generation (…/v1)`
        : `a hosted service with no version endpoint: Platform API ${generation}, from the API base URL`,
  };
}

export function pingOneDiagnostics(setup: PingOneDiagnosticsSetup): AdapterDiagnostics {
  const setting = (option: string) => settingName(setup.settingNames, option);
  const { http, environmentId, workerId } = setup;
  const environment = path`/environments/${environmentId}`;
  const fixFor = (permission: string) =>
    `In ${IDP_NAME}, open application ${workerId} (the bridge's worker) → Roles → Grant Roles, and grant Application Owner for environment ${environmentId} (it includes ${permission}).`;
  const checkName = (permission: string) => `permission: ${permission}`;

  /** Every check skipped, reading applications proven by one GET: PingOne would not show the worker's roles. */
  async function unseen(why: string, signal: AbortSignal): Promise<DiagnosticCheck[]> {
    const detail = `${why} \`dcr-bridge doctor --write-test\` proves it.`;
    return Promise.all(
      REQUIRED_PERMISSIONS.map(async ([permission]): Promise<DiagnosticCheck> =>
        permission === 'applications:read:application'
          ? http.checkAccess(
              path`${environment}/applications`,
              { name: checkName(permission), fix: fixFor(permission) },
              { query: { limit: 1 }, signal },
            )
          : { name: checkName(permission), result: 'skip', detail },
      ),
    );
  }

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    const { signal } = context;
    try {
      const assignments = await http.get<Collection<RoleAssignment>>(path`${environment}/applications/${workerId}/roleAssignments`, {
        signal,
      });
      if (assignments.status === 403)
        return unseen(`${IDP_NAME} does not let the worker read its own role assignments (HTTP 403).`, signal);
      if (!assignments.ok) throw http.errorFromResponse(assignments, "reading the worker's role assignments");
      const roles = await http.get<Collection<Role>>(path`/roles`, { signal });
      if (roles.status === 403) return unseen(`${IDP_NAME} does not let the worker read the built-in roles (HTTP 403).`, signal);
      if (!roles.ok) throw http.errorFromResponse(roles, 'reading the built-in roles');
      return judge(assignments.body._embedded?.roleAssignments ?? [], roles.body._embedded?.roles ?? []);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const fix = `Check ${setting('clientId')} and ${setting('clientSecret')} (the worker application of environment ${environmentId}) and ${setting('region')} or ${setting('apiUrl')} / ${setting('authUrl')}.`;
      return REQUIRED_PERMISSIONS.map(([permission]) => ({ name: checkName(permission), result: 'fail', detail, fix }));
    }
  }

  function judge(assignments: RoleAssignment[], builtIn: Role[]): DiagnosticCheck[] {
    const byId = new Map(builtIn.filter((role) => typeof role.id === 'string').map((role) => [role.id as string, role]));
    // Roles count for this environment when assigned for it, or for the whole organization.
    const here = assignments.filter(
      ({ scope }) => (scope?.type === 'ENVIRONMENT' && scope.id === environmentId) || scope?.type === 'ORGANIZATION',
    );
    const known = here.flatMap(({ role }) => (typeof role?.id === 'string' && byId.has(role.id) ? [byId.get(role.id) as Role] : []));
    const custom = here.length - known.length;
    const held = known.map((role) => String(role.name)).join(', ');
    const seen = `The worker holds ${held || 'no built-in role'} for this environment${custom > 0 ? ` and ${custom} custom role${custom > 1 ? 's' : ''}` : ''}.`;
    return REQUIRED_PERMISSIONS.map(([permission, use]): DiagnosticCheck => {
      const granting = known
        .filter((role) => role.permissions?.some((granted) => granted.id === permission))
        .map((role) => String(role.name));
      if (granting.length > 0)
        return { name: checkName(permission), result: 'pass', detail: `Granted by ${[...new Set(granting)].join(', ')}.` };
      if (custom > 0)
        return {
          name: checkName(permission),
          result: 'skip',
          detail: `${seen} No built-in role of it grants ${permission}; what a custom role grants is not read here: \`dcr-bridge doctor --write-test\` proves it.`,
        };
      return {
        name: checkName(permission),
        result: 'fail',
        detail: `${seen} None grants ${permission}, which the bridge needs to ${use}.`,
        fix: fixFor(permission),
      };
    });
  }

  return {
    adminUrl: setup.apiUrl,
    checkPermissions,
    tokenEndpoint: async () => `${setup.issuer}/token`,
    idpVersion: async () => pingOneApiGeneration(setup.apiUrl),
  };
}
