import type { AdapterDiagnostics, DiagnosticCheck, OperationContext } from '@dcr-bridge/core';
import { path, type IdpHttpClient } from '@dcr-bridge/core/idp';

export interface FusionauthDiagnosticsSetup {
  http: IdpHttpClient;
  /** FusionAuth's base URL, without a trailing slash. */
  baseUrl: string;
  entityTypeId: string;
  targetEntityId?: string;
}

/**
 * What `dcr-bridge doctor` checks at FusionAuth. An API key's rights are a list of endpoints with the methods
 * allowed on each (or every endpoint when the list is empty), and FusionAuth answers 401 to a method the key
 * lacks. Reads can be proven with GETs; POST, PUT and DELETE on /api/entity only by writing (`--write-test`).
 */
export function fusionauthDiagnostics(setup: FusionauthDiagnosticsSetup): AdapterDiagnostics {
  const allow = (endpoint: string, methods: string) =>
    `In FusionAuth's admin UI, Settings → API Keys → the bridge's key: allow ${methods} on ${endpoint} (and check FUSIONAUTH_TENANT_ID when FusionAuth has several tenants).`;

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    const checks = [
      await setup.http.checkAccess(
        path`/api/entity/type/${setup.entityTypeId}`,
        {
          name: 'permission: GET /api/entity/type',
          fix: `${allow('/api/entity/type', 'GET')} If it is allowed, FUSIONAUTH_ENTITY_TYPE_ID names no entity type of this tenant.`,
        },
        { signal: context.signal },
      ),
    ];
    if (setup.targetEntityId !== undefined)
      checks.push(
        await setup.http.checkAccess(
          path`/api/entity/${setup.targetEntityId}`,
          {
            name: 'permission: GET /api/entity',
            fix: `${allow('/api/entity', 'GET, POST, PUT and DELETE')} If it is allowed, FUSIONAUTH_TARGET_ENTITY_ID names no entity of this tenant.`,
          },
          { signal: context.signal },
        ),
      );
    checks.push({
      name: 'permission: POST, PUT, DELETE /api/entity and POST /api/entity/grant',
      result: 'skip',
      detail: 'Not visible without writing: `dcr-bridge doctor --write-test` proves it.',
    });
    return checks;
  }

  return {
    adminUrl: setup.baseUrl,
    checkPermissions,
    tokenEndpoint: async () => `${setup.baseUrl}/oauth2/token`,
  };
}
