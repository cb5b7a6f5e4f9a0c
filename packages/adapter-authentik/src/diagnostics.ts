import type { AdapterDiagnostics, DiagnosticCheck, OperationContext } from '@dcr-bridge/core';
import type { IdpHttpClient } from '@dcr-bridge/core/idp';

export interface AuthentikDiagnosticsSetup {
  /** The client of authentik's API, `<base URL>/api/v3`. */
  http: IdpHttpClient;
  /** authentik's base URL, without a trailing slash. */
  baseUrl: string;
}

/** A permission the bridge needs, the list that proves it readable, and the role permission that grants it. */
const READS = [
  { permission: 'view_oauth2provider', list: '/providers/oauth2/', model: 'OAuth2/OpenID Provider' },
  { permission: 'view_application', list: '/core/applications/', model: 'Application' },
  { permission: 'view_scopemapping', list: '/propertymappings/provider/scope/', model: 'Scope Mapping' },
];

/**
 * What `dcr-bridge doctor` checks at authentik. authentik's API shows no token's permissions, so each read
 * permission is proven by one list of one item: authentik's RBAC filter (`authentik/rbac/filters.py`)
 * answers 403 to a list when the user has neither the global view permission nor one on any object. The
 * add, change and delete permissions can only be proven by writing: `dcr-bridge doctor --write-test`.
 */
export function authentikDiagnostics(setup: AuthentikDiagnosticsSetup): AdapterDiagnostics {
  const grant = (model: string, actions: string) =>
    `In authentik, Directory → Roles → the role of the bridge's service account → Assign permissions: ${actions} on every ${model} (global permissions).`;

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    const reads = await Promise.all(
      READS.map(({ permission, list, model }) =>
        setup.http.checkAccess(
          list,
          { name: `permission: ${permission}`, fix: grant(model, `Can view ${model}`) },
          { query: { page_size: 1 }, signal: context.signal },
        ),
      ),
    );
    const writes: DiagnosticCheck = {
      name: 'permissions: add, change and delete of OAuth2/OpenID Providers and Applications',
      result: 'skip',
      detail: 'Not visible without writing: `dcr-bridge doctor --write-test` proves them.',
    };
    return [...reads, writes];
  }

  return {
    adminUrl: setup.baseUrl,
    checkPermissions,
    tokenEndpoint: async () => `${setup.baseUrl}/application/o/token/`,
  };
}
