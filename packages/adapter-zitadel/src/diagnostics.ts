import {
  settingName,
  type AdapterDiagnostics,
  type BridgeError,
  type DiagnosticCheck,
  type IdpVersion,
  type OperationContext,
  type SettingNames,
} from '@dcr-bridge/core';
import type { IdpResponse } from '@dcr-bridge/core/idp';

export interface ZitadelDiagnosticsSetup {
  /** The instance's base URL, without a trailing slash. */
  baseUrl: string;
  projectId: string;
  /** The organization whose service users the bridge creates. */
  organizationId: string;
  /** One page of the project's OIDC applications (ListApplications). */
  listPage(offset: number, limit: number, context: Pick<OperationContext, 'signal'>): Promise<IdpResponse>;
  errorFromResponse(response: IdpResponse, action: string): BridgeError;
  /** InstanceService v2 GetInstance of the instance the base URL names (needs `iam.read`). */
  getInstance(context: Pick<OperationContext, 'signal'>): Promise<IdpResponse<{ instance?: { version?: string } }>>;
  /** The caller's own memberships (auth v1 ListMyMemberships, `POST /auth/v1/memberships/me/_search`: any authenticated user). */
  listMyMemberships(context: Pick<OperationContext, 'signal'>): Promise<IdpResponse<{ result?: ZitadelMembership[] }>>;
  /** Whether ListApplications filters by client id (one filtered call for a client id no application has). */
  probeClientIdFilter(context: OperationContext): Promise<boolean>;
  /** How an operator sets each option (`settingNamesOf`), for the fixes; without, the fixes name the options. */
  settingNames?: SettingNames;
}

/** A membership of the caller (zitadel.user.v1.Membership): roles on the instance, an organization or a project. */
export interface ZitadelMembership {
  roles?: string[];
  iam?: boolean;
  orgId?: string;
  projectId?: string;
}

/** ZITADEL's default roles that hold the writes the bridge needs (InternalAuthZ's role mappings). */
const APP_WRITERS = new Set(['IAM_OWNER', 'ORG_OWNER', 'PROJECT_OWNER', 'PROJECT_OWNER_GLOBAL']);
const USER_WRITERS = new Set(['IAM_OWNER', 'ORG_OWNER', 'ORG_USER_MANAGER']);

/**
 * What the caller's memberships in these scopes say of a write permission: `pass` for a default role that holds it,
 * `fail` when every role there is a viewer's (`…_VIEWER`) or there is none, `skip` for roles ZITADEL's defaults do
 * not name (an instance may map its own).
 */
function judge(memberships: ZitadelMembership[], writers: ReadonlySet<string>): 'pass' | 'fail' | 'skip' {
  const roles = memberships.flatMap((membership) => membership.roles ?? []);
  if (roles.some((role) => writers.has(role))) return 'pass';
  return roles.every((role) => role.endsWith('_VIEWER')) ? 'fail' : 'skip';
}

/** The versions the adapter supports (README, "Supported versions"): the v2 ApplicationService came with v4.5.0. */
export const SUPPORTED_VERSIONS = 'v4.5.0 – v4.x';

/** Whether a version ZITADEL reports (`v4.11.2`, `4.5.0-rc.1`) is within SUPPORTED_VERSIONS; undefined when unreadable. */
export function withinSupported(version: string): boolean | undefined {
  const match = /^v?(\d+)\.(\d+)\./.exec(version.trim());
  if (!match) return undefined;
  return Number(match[1]) === 4 && Number(match[2]) >= 5;
}

const READ = 'permission: project.app.read';
const WRITE = 'permission: project.app.write, project.app.delete';
const USERS = 'permission: user.read, user.write, user.delete';

/**
 * What `dcr-bridge doctor` (and readiness, through core) checks at ZITADEL, without writing: reading applications
 * with one ListApplications of the project, the writes from the caller's own memberships (one ListMyMemberships:
 * ZITADEL's default roles name what they hold). `--write-test` proves the writes by creating a service user.
 */
export function zitadelDiagnostics(setup: ZitadelDiagnosticsSetup): AdapterDiagnostics {
  const setting = (option: string) => settingName(setup.settingNames, option);
  const userFix = `In ZITADEL's console, add the bridge's service user as a manager of organization ${setup.organizationId} with the role ORG_USER_MANAGER.`;
  const fix =
    `In ZITADEL's console, open project ${setup.projectId} → Authorizations / Members, add the bridge's service user ` +
    `with the role PROJECT_OWNER (it holds project.app.read, project.app.write and project.app.delete), and check ${setting('apiToken')} is that user's personal access token.`;

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    try {
      const response = await setup.listPage(0, 1, context);
      if (!response.ok) {
        const refused = response.status === 401 || response.status === 403 || response.status === 404;
        const detail = setup.errorFromResponse(response, `listing the applications of project ${setup.projectId}`).message;
        return [{ name: READ, result: 'fail', detail, ...(refused ? { fix } : {}) }, ...writesUnknown('not checked: the read failed')];
      }
      return [{ name: READ, result: 'pass', detail: `ListApplications answered ${response.status}` }, ...(await writes(context))];
    } catch (error) {
      return [
        { name: READ, result: 'fail', detail: error instanceof Error ? error.message : String(error) },
        ...writesUnknown('not checked'),
      ];
    }
  }

  /**
   * The writes, read from the caller's own memberships (one ListMyMemberships): a read-only account (viewer roles
   * only) fails them, so readiness keeps it out of service. `--write-test` proves them by writing.
   */
  async function writes(context: OperationContext): Promise<DiagnosticCheck[]> {
    const response = await setup.listMyMemberships(context);
    if (!response.ok) return writesUnknown(`ListMyMemberships answered ${response.status}`);
    const memberships = response.body?.result ?? [];
    const inOrg = (membership: ZitadelMembership) => membership.iam === true || membership.orgId === setup.organizationId;
    const named = (found: ZitadelMembership[]) => found.flatMap((membership) => membership.roles ?? []).join(', ') || 'none';
    const onProject = memberships.filter((membership) => inOrg(membership) || membership.projectId === setup.projectId);
    const onOrg = memberships.filter(inOrg);
    const app = judge(onProject, APP_WRITERS);
    const user = judge(onOrg, USER_WRITERS);
    return [
      {
        name: WRITE,
        result: app,
        detail: `roles on project ${setup.projectId} and above: ${named(onProject)}${app === 'skip' ? ' (not ZITADEL defaults: --write-test proves them)' : ''}`,
        ...(app === 'fail' ? { fix } : {}),
      },
      {
        name: USERS,
        result: user,
        detail: `roles on organization ${setup.organizationId} and above: ${named(onOrg)}${user === 'skip' ? ' (not ZITADEL defaults: --write-test proves them)' : ''}`,
        ...(user === 'fail' ? { fix: userFix } : {}),
      },
    ];
  }

  const writesUnknown = (why: string): DiagnosticCheck[] => [
    { name: WRITE, result: 'skip', detail: `${why}; \`dcr-bridge doctor --write-test\` proves it` },
    { name: USERS, result: 'skip', detail: `${why}; \`dcr-bridge doctor --write-test\` proves it` },
  ];

  /**
   * ZITADEL tells its version in the instance (`Instance.version`, InstanceService v2 GetInstance), readable with
   * `iam.read` only (IAM_OWNER_VIEWER and above), which the bridge's least-privilege user lacks. Refused, the API
   * generation the adapter depends on is told instead: whether ListApplications filters by client id.
   */
  async function idpVersion(context: OperationContext): Promise<IdpVersion> {
    const product = 'ZITADEL';
    const response = await setup.getInstance(context);
    const version = response.ok ? response.body?.instance?.version : undefined;
    if (typeof version === 'string' && version !== '')
      return {
        product,
        version,
        supported: SUPPORTED_VERSIONS,
        withinSupported: withinSupported(version),
        detail: 'InstanceService GetInstance',
      };
    if (response.ok || response.status === 401 || response.status === 403 || response.status === 404 || response.status === 501) {
      const filters = await setup.probeClientIdFilter(context);
      const generation = filters
        ? 'ListApplications filters by client id (v4.x from 2026): one call for a cold lookup'
        : 'ListApplications has no client id filter (v4 before it): a cold lookup pages through the project';
      return {
        product,
        supported: SUPPORTED_VERSIONS,
        detail: `the version is readable with iam.read only (GetInstance answered ${response.status}); ${generation}`,
      };
    }
    throw setup.errorFromResponse(response, 'reading the instance (GetInstance)');
  }

  return {
    adminUrl: setup.baseUrl,
    idpVersion,
    checkPermissions,
    tokenEndpoint: async () => `${setup.baseUrl}/oauth/v2/token`,
  };
}
