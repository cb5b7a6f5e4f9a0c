import {
  BridgeError,
  notReady,
  type AdapterDiagnostics,
  type DiagnosticCheck,
  type IdpVersion,
  type OperationContext,
} from '@dcr-bridge/core';
import { path, type IdpHttpClient, type IdpResponse } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';

/** PingFederate's `AdministrativeAccount`, as much as the doctor reads. */
interface AdministrativeAccount {
  auditor?: boolean;
  roles?: string[];
}

/** PingFederate's `ServerSettings`, as much as the doctor reads. */
interface ServerSettings {
  federationInfo?: { baseUrl?: string };
}

/**
 * The PingFederate versions the adapter supports (README, "Supported versions"): the admin API's `Client`,
 * `ClientAuth`, `ClientSecret`, `SecondarySecret`, `AdministrativeAccount` and `ServerSettings` models, and the
 * paths the adapter calls, are the same in the descriptions of 11.2 to 12.1 (pingfederate-go-client branches
 * v1125 to v1210) and in 13.0–13.1 (Ping's Terraform provider, go-client v1300). Major and minor only.
 */
export const SUPPORTED_VERSIONS = { from: [11, 2], to: [13, 1], text: '11.2 – 13.1' } as const;

/** Whether a PingFederate version (`12.1.0.4`) is within the supported range; undefined when it is not a version. */
export function withinSupported(version: string): boolean | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!match) return undefined;
  const at = Number(match[1]) * 1000 + Number(match[2]);
  const { from, to } = SUPPORTED_VERSIONS;
  return at >= from[0] * 1000 + from[1] && at <= to[0] * 1000 + to[1];
}

export interface PingFederateDiagnosticsSource {
  adminUrl: string;
  http: IdpHttpClient;
  /** The native account the bridge signs in with (Basic); absent with OAuth admin API authorization. */
  username?: string;
}

/** The role name as the admin API spells it (`AdministrativeAccount.roles`); the console calls it "Admin". */
const ADMINISTRATOR = 'ADMINISTRATOR';

/**
 * The doctor's read-only checks for PingFederate. Every permission the adapter needs (list, read, create,
 * update and delete OAuth clients; read scope management) belongs to one role, Admin; an Auditor reads
 * everything and writes nothing. Reads are checked by reading; the write half by the account's roles, where
 * PingFederate shows them (`GET /administrativeAccounts/{username}`), else left to `--write-test`.
 */
export function createPingFederateDiagnostics(source: PingFederateDiagnosticsSource): AdapterDiagnostics {
  const { http, username } = source;
  const fix = username
    ? `In ${IDP_NAME}'s administrative console, System → Server → Administrative Accounts: give the account "${username}" the Admin role, and untick Auditor (an Auditor is view-only and holds no other role).`
    : "Give the bridge's OAuth client the Admin role: map it to the Admin role in <pf_install>/pingfederate/bin/oauth2.properties (the admin API's OAuth 2.0 authorization settings), then restart the console node.";

  async function writeRoleCheck(context: OperationContext): Promise<DiagnosticCheck> {
    const name = 'permission: Admin (create, update and delete OAuth clients)';
    if (!username) {
      return {
        name,
        result: 'skip',
        detail:
          'With OAuth admin API authorization the role comes from oauth2.properties, which the admin API does not show: `dcr-bridge doctor --write-test` proves it.',
      };
    }
    let response: IdpResponse<AdministrativeAccount>;
    try {
      response = await http.get<AdministrativeAccount>(path`/administrativeAccounts/${username}`, { signal: context.signal });
    } catch (error) {
      return {
        name,
        result: 'skip',
        detail: `Could not read the account's roles (${notReady(error).detail}): \`dcr-bridge doctor --write-test\` proves it.`,
      };
    }
    if (response.ok) {
      const roles = response.body.roles ?? [];
      if (response.body.auditor) return { name, result: 'fail', detail: `"${username}" is an Auditor account (view-only).`, fix };
      if (roles.includes(ADMINISTRATOR)) return { name, result: 'pass', detail: `roles of "${username}": ${roles.join(', ')}` };
      return { name, result: 'fail', detail: `roles of "${username}": ${roles.join(', ') || 'none'}`, fix };
    }
    const why =
      response.status === 404
        ? `the account is not one of ${IDP_NAME}'s native accounts (LDAP and RADIUS accounts get their roles from their properties files)`
        : `${IDP_NAME} does not show the account its own roles (GET /administrativeAccounts/${username} answered ${response.status}; account management belongs to the User Admin role, which the bridge does not need)`;
    return { name, result: 'skip', detail: `${why}: \`dcr-bridge doctor --write-test\` proves it.` };
  }

  return {
    adminUrl: source.adminUrl,
    async checkPermissions(context) {
      return [
        await http.checkAccess(
          path`/oauth/clients`,
          { name: 'permission: Admin (list and read OAuth clients)', fix },
          { query: { numberPerPage: 1 }, signal: context.signal },
        ),
        await http.checkAccess(
          path`/oauth/authServerSettings`,
          { name: 'permission: Admin (read scope management)', fix },
          { signal: context.signal },
        ),
        await writeRoleCheck(context),
      ];
    },
    async idpVersion(context): Promise<IdpVersion> {
      // One cheap read: the admin API's `GET /version` (`Version` model: `{version}`), open to every administrative role.
      const response = await http.get<{ version?: unknown }>(path`/version`, { signal: context.signal });
      if (!response.ok) throw http.errorFromResponse(response, 'reading the server version');
      const version = typeof response.body?.version === 'string' ? response.body.version : undefined;
      return {
        product: IDP_NAME,
        version,
        supported: SUPPORTED_VERSIONS.text,
        withinSupported: version === undefined ? undefined : withinSupported(version),
        detail: version === undefined ? 'GET /version answered without a version' : 'GET /pf-admin-api/v1/version',
      };
    },
    async tokenEndpoint(context) {
      // The runtime's token endpoint hangs off the server's base URL (System → Protocol Settings → Federation Info).
      const settings = await http.get<ServerSettings>(path`/serverSettings`, { signal: context.signal });
      if (!settings.ok) throw http.errorFromResponse(settings, 'reading the server settings');
      const baseUrl = settings.body.federationInfo?.baseUrl;
      if (!baseUrl)
        throw new BridgeError(
          'idp_error',
          `${IDP_NAME} has no base URL: set it in System → Protocol Settings → Federation Info (clients get their tokens at <base URL>/as/token.oauth2).`,
        );
      return `${baseUrl.replace(/\/+$/, '')}/as/token.oauth2`;
    },
  };
}
