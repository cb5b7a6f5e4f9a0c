import { randomUUID } from 'node:crypto';
import {
  settingName,
  type AdapterDiagnostics,
  type DiagnosticCheck,
  type IdpVersion,
  type OperationContext,
  type SettingNames,
} from '@dcr-bridge/core';
import { path, type HttpMethod, type IdpHttpClient, type IdpTarget } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';

/** The oldest FusionAuth the adapter supports: 1.57.0 added `PATCH /api/entity/{entityId}`, which rotation needs (README). */
export const SUPPORTED_SINCE = '1.57.0';
export const SUPPORTED = `${SUPPORTED_SINCE} and later`;

const parts = (version: string) => (version.match(/^(\d+)\.(\d+)\.(\d+)/)?.slice(1) ?? []).map(Number);

/** Whether a version FusionAuth reports is within SUPPORTED; undefined when it is no x.y.z. */
export function withinSupported(version: string): boolean | undefined {
  const [have, since] = [parts(version), parts(SUPPORTED_SINCE)];
  if (have.length !== 3) return undefined;
  for (let i = 0; i < 3; i++) if (have[i] !== since[i]) return (have[i] ?? 0) > (since[i] ?? 0);
  return true;
}

export interface FusionauthDiagnosticsSetup {
  http: IdpHttpClient;
  /** FusionAuth's base URL, without a trailing slash. */
  baseUrl: string;
  entityTypeId: string;
  targetEntityId?: string;
  /** How an operator sets each option (`settingNamesOf`), for the fixes; without, the fixes name the options. */
  settingNames?: SettingNames;
}

/**
 * What `dcr-bridge doctor` checks at FusionAuth. An API key's rights are a list of endpoints with the methods
 * allowed on each (or every endpoint when the list is empty), and FusionAuth answers 401 to a method the key
 * lacks, before it looks at anything else. Reads are proven with GETs. Writes are proven by writes that cannot change
 * anything: on an entity id that exists nowhere (a fresh random UUID) and, for POST, with a body FusionAuth must refuse
 * (no name, no type); a key allowed the method answers 400 or 404, one that lacks it 401. Readiness runs these
 * checks (cached by core), so a read-only key makes the bridge not ready.
 */
export function fusionauthDiagnostics(setup: FusionauthDiagnosticsSetup): AdapterDiagnostics {
  const setting = (option: string) => settingName(setup.settingNames, option);
  const allow = (endpoint: string, methods: string) =>
    `In FusionAuth's admin UI, Settings → API Keys → the bridge's key: allow ${methods} on ${endpoint} (and check ${setting('tenantId')} when FusionAuth has several tenants).`;

  async function checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]> {
    const checks = [
      await setup.http.checkAccess(
        path`/api/entity/type/${setup.entityTypeId}`,
        {
          name: 'permission: GET /api/entity/type',
          fix: `${allow('/api/entity/type', 'GET')} If it is allowed, ${setting('entityTypeId')} names no entity type of this tenant.`,
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
            fix: `${allow('/api/entity', 'GET, POST, PUT and DELETE')} If it is allowed, ${setting('targetEntityId')} names no entity of this tenant.`,
          },
          { signal: context.signal },
        ),
      );
    // An id no entity has: the writes below find nothing to change.
    const nowhere = randomUUID();
    const entityFix = (method: string) => allow('/api/entity', method);
    checks.push(
      await writeCheck('POST', path`/api/entity/${nowhere}`, { entity: {} }, 'permission: POST /api/entity', entityFix('POST'), context),
      await writeCheck('PUT', path`/api/entity/${nowhere}`, { entity: {} }, 'permission: PUT /api/entity', entityFix('PUT'), context),
      await writeCheck('PATCH', path`/api/entity/${nowhere}`, { entity: {} }, 'permission: PATCH /api/entity', entityFix('PATCH'), context),
      await writeCheck('DELETE', path`/api/entity/${nowhere}`, undefined, 'permission: DELETE /api/entity', entityFix('DELETE'), context),
    );
    if (setup.targetEntityId !== undefined)
      checks.push(
        await writeCheck(
          'POST',
          path`/api/entity/${nowhere}/grant`,
          { grant: { recipientEntityId: nowhere, permissions: [] } },
          'permission: POST /api/entity/grant',
          allow('/api/entity/grant', 'POST'),
          context,
        ),
      );
    return checks;
  }

  /**
   * A write that changes nothing: 401/403 is a missing permission (fail, with the fix); 405 on PATCH is a FusionAuth
   * older than 1.57.0 (warn: rotation fails there, the rest works); any other answer means the key may.
   */
  async function writeCheck(
    method: HttpMethod,
    target: IdpTarget,
    json: unknown,
    name: string,
    fix: string,
    context: OperationContext,
  ): Promise<DiagnosticCheck> {
    try {
      const response = await setup.http.request(method, target, { ...(json === undefined ? {} : { json }), signal: context.signal });
      if (response.status === 401 || response.status === 403)
        return { name, result: 'fail', detail: `${method} on an entity that does not exist answered ${response.status}`, fix };
      if (method === 'PATCH' && response.status === 405)
        return {
          name,
          result: 'warn',
          detail: `${IDP_NAME} has no PATCH on an entity (answered 405): it is older than ${SUPPORTED_SINCE}, and rotation fails`,
          fix: `Upgrade ${IDP_NAME} to ${SUPPORTED_SINCE} or later.`,
        };
      if (response.status >= 500)
        return {
          name,
          result: 'fail',
          detail: setup.http.errorFromResponse(response, `${method} on an entity that does not exist`).message,
        };
      return { name, result: 'pass', detail: `${method} on an entity that does not exist answered ${response.status}: allowed` };
    } catch (error) {
      return { name, result: 'fail', detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** `GET /api/system/version` (`retrieveVersionWithId`): `{version}`; the key needs GET on /api/system/version. */
  async function idpVersion(context: OperationContext): Promise<IdpVersion> {
    const base = { product: IDP_NAME, supported: SUPPORTED };
    try {
      const response = await setup.http.get<{ version?: unknown }>(path`/api/system/version`, { signal: context.signal });
      const version = response.body?.version;
      if (response.ok && typeof version === 'string') {
        const within = withinSupported(version);
        return {
          ...base,
          version,
          ...(within === undefined ? {} : { withinSupported: within }),
          detail:
            within === false
              ? `GET /api/system/version: ${version}, older than ${SUPPORTED_SINCE} (no PATCH on an entity: rotation fails; upgrade ${IDP_NAME})`
              : `GET /api/system/version: ${version}`,
        };
      }
      const refused = response.status === 401 || response.status === 403;
      return {
        ...base,
        detail: refused
          ? `GET /api/system/version answered ${response.status}: allow GET on /api/system/version for the bridge's key (Settings → API Keys) for doctor to name the version`
          : `GET /api/system/version answered ${response.status} without a version`,
      };
    } catch (error) {
      return { ...base, detail: `GET /api/system/version failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  return {
    adminUrl: setup.baseUrl,
    checkPermissions,
    idpVersion,
    tokenEndpoint: async () => `${setup.baseUrl}/oauth2/token`,
  };
}
