import type { AdapterDiagnostics, DiagnosticCheck, IdpVersion, OperationContext } from '@dcr-bridge/core';
import { path, type IdpHttpClient, type IdpPath } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';
import { SUPPORTED, hasGrantTypes, readVersion, releaseOf, withinSupported } from './versions.js';

export interface AuthentikDiagnosticsSetup {
  /** The client of authentik's API, `<base URL>/api/v3`. */
  http: IdpHttpClient;
  /** authentik's base URL, without a trailing slash. */
  baseUrl: string;
}

/** A permission the bridge needs, the list that proves it readable, and the role permission that grants it. */
const READS = [
  { permission: 'view_oauth2provider', list: path`/providers/oauth2/`, model: 'OAuth2/OpenID Provider' },
  { permission: 'view_application', list: path`/core/applications/`, model: 'Application' },
  { permission: 'view_scopemapping', list: path`/propertymappings/provider/scope/`, model: 'Scope Mapping' },
];

/**
 * The add permissions, proven by a create that cannot succeed: an empty body. authentik checks a list route's model
 * permission before the serializer reads the body (`ObjectPermissions.has_permission`, `authentik/rbac/permissions.py`):
 * without `add_<model>` it answers 403, with it 400 for the missing required fields. Nothing is created either way.
 */
const ADDS = [
  { permission: 'add_oauth2provider', list: path`/providers/oauth2/`, model: 'OAuth2/OpenID Provider' },
  { permission: 'add_application', list: path`/core/applications/`, model: 'Application' },
];

/**
 * What `dcr-bridge doctor` checks at authentik (and core's readiness, every minute). authentik's API shows no token's
 * permissions, so each read permission is proven by one list of one item: authentik's RBAC filter
 * (`authentik/rbac/filters.py`) answers 403 to a list when the user has neither the global view permission nor one on
 * any object. Each add permission by an empty create (see `ADDS`). Change and delete are checked on an object only
 * (a detail route passes `has_permission`), so they can only be proven by writing: `dcr-bridge doctor --write-test`.
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
    const adds = await Promise.all(
      ADDS.map(({ permission, list, model }) => checkCreate(list, `permission: ${permission}`, grant(model, `Can add ${model}`), context)),
    );
    const writes: DiagnosticCheck = {
      name: 'permissions: change and delete of OAuth2/OpenID Providers and Applications',
      result: 'skip',
      detail: 'Not visible without writing: `dcr-bridge doctor --write-test` proves them.',
    };
    return [...reads, ...adds, writes];
  }

  async function checkCreate(list: IdpPath, name: string, fix: string, context: OperationContext): Promise<DiagnosticCheck> {
    try {
      const response = await setup.http.post(list, { json: {}, signal: context.signal });
      if (response.status === 400) return { name, result: 'pass', detail: 'an empty create answered 400 (allowed; nothing created)' };
      const refused = response.status === 401 || response.status === 403;
      return {
        name,
        result: 'fail',
        detail: setup.http.errorFromResponse(response, name).message,
        ...(refused ? { fix } : {}),
      };
    } catch (error) {
      return { name, result: 'fail', detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** `GET /api/v3/admin/version/` → `version_current`, and the API generation it belongs to. */
  async function idpVersion(context: OperationContext): Promise<IdpVersion> {
    const version = await readVersion(setup.http, context);
    const release = releaseOf(version);
    if (!release)
      return { product: IDP_NAME, version, supported: SUPPORTED, detail: `GET /api/v3/admin/version/ answered an unknown version format` };
    const generation = hasGrantTypes(release)
      ? 'providers list their grant types (2026.5 and later): the bridge sets grant_types on each client it creates'
      : 'providers have no grant type list (before 2026.5): every grant is open to a client';
    return {
      product: IDP_NAME,
      version,
      supported: SUPPORTED,
      withinSupported: withinSupported(release),
      detail: `version_current of GET /api/v3/admin/version/; ${generation}`,
    };
  }

  return {
    adminUrl: setup.baseUrl,
    checkPermissions,
    tokenEndpoint: async () => `${setup.baseUrl}/application/o/token/`,
    idpVersion,
  };
}
