import type { AdapterDiagnostics, BridgeError, DiagnosticCheck, OperationContext } from '@dcr-bridge/core';
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
}

const READ = 'permission: project.app.read';
const WRITE = 'permission: project.app.write, project.app.delete';
const USERS = 'permission: user.read, user.write, user.delete';

/**
 * What `dcr-bridge doctor` checks at ZITADEL. Reading applications is proven with one ListApplications
 * call on the project. ZITADEL shows no caller its own permissions without writing (and ListUsers answers
 * an empty list to a caller who may read no user), so creating, rotating and deleting applications and
 * service users are left to `--write-test`, which creates a client_credentials client: a service user.
 */
export function zitadelDiagnostics(setup: ZitadelDiagnosticsSetup): AdapterDiagnostics {
  const fix =
    `In ZITADEL's console, open project ${setup.projectId} → Authorizations / Members, add the bridge's service user ` +
    `with the role PROJECT_OWNER (it holds project.app.read, project.app.write and project.app.delete), and check ZITADEL_API_TOKEN is that user's personal access token.`;

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    const write: DiagnosticCheck = {
      name: WRITE,
      result: 'skip',
      detail:
        'ZITADEL cannot show it without writing, and `dcr-bridge doctor --write-test` creates a client_credentials client (a service user): ' +
        'registering one authorization_code application proves it.',
    };
    const users: DiagnosticCheck = {
      name: USERS,
      result: 'skip',
      detail:
        `ZITADEL cannot show it without writing: \`dcr-bridge doctor --write-test\` proves it (it creates a service user in organization ${setup.organizationId}). ` +
        "Grant the bridge's service user ORG_USER_MANAGER on that organization.",
    };
    try {
      const response = await setup.listPage(0, 1, context);
      if (response.ok) return [{ name: READ, result: 'pass', detail: `ListApplications answered ${response.status}` }, write, users];
      const refused = response.status === 401 || response.status === 403 || response.status === 404;
      const detail = setup.errorFromResponse(response, `listing the applications of project ${setup.projectId}`).message;
      return [{ name: READ, result: 'fail', detail, ...(refused ? { fix } : {}) }, write, users];
    } catch (error) {
      return [{ name: READ, result: 'fail', detail: error instanceof Error ? error.message : String(error) }, write, users];
    }
  }

  return {
    adminUrl: setup.baseUrl,
    checkPermissions,
    tokenEndpoint: async () => `${setup.baseUrl}/oauth/v2/token`,
  };
}
