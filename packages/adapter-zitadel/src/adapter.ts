import {
  BridgeError,
  notReady,
  defineDcrAdapter,
  lifecycleSettings,
  type CommonAdapterOptions,
  silentLogger,
  type ClientRegistration,
  type CreateContext,
  type DcrAdapter,
  type IdpPrimitives,
  type OperationContext,
  type ReadinessReport,
} from '@dcr-bridge/core';
import { createIdpHttpClient, path, staticAuthorization } from '@dcr-bridge/core/idp';
import { callZitadel, type ApplicationMethod } from './connect.js';
import { zitadelDiagnostics } from './diagnostics.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import { isMachineUserClientId, isManagedUser, machineUsers, type ZitadelMachineUser } from './machine-users.js';
import {
  APPLICATION_ID_PREFIX,
  applicationIdFor,
  REGISTRATION,
  clientKind,
  clientNameFor,
  describeConnectError,
  isManaged,
  newApplication,
  type ZitadelApplication,
} from './mapping.js';

export interface ZitadelAdapterOptions extends CommonAdapterOptions {
  /** The ZITADEL instance's base URL, e.g. https://my-instance.zitadel.cloud (its APIs and its token endpoint). */
  baseUrl: string;
  /** The project whose OIDC applications the bridge creates (authorization_code and other user-facing grants). */
  projectId: string;
  /** The organization whose service users the bridge creates (client_credentials registrations). */
  organizationId: string;
  /** A personal access token of the service user the bridge calls ZITADEL as. */
  apiToken: string;
}

/** ListApplications page size: ZITADEL's default query limit. */
const PAGE_SIZE = 100;

/** A client of the bridge in ZITADEL: an OIDC application, or a service user for client_credentials. */
export type ZitadelClient =
  { kind: 'oidcApplication'; application: ZitadelApplication } | { kind: 'machineUser'; user: ZitadelMachineUser };

interface ListApplicationsResponse {
  applications?: ZitadelApplication[];
  pagination?: { totalResult?: string | number };
}

export function createZitadelAdapter(options: ZitadelAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl,
    authorization: staticAuthorization(`Bearer ${options.apiToken}`),
    headers: { 'connect-protocol-version': '1' },
    describeErrorBody: describeConnectError,
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const call = <T>(method: ApplicationMethod, json: Record<string, unknown>, context: Pick<OperationContext, 'signal'>) =>
    callZitadel<'application', T>(http, 'application', method, json, context);
  const users = machineUsers({ http, organizationId: options.organizationId });
  const ids = (application: ZitadelApplication) => ({ projectId: options.projectId, applicationId: application.applicationId });

  /** One page of the project's OIDC applications, oldest id first. */
  const listPage = (offset: number, limit: number, context: Pick<OperationContext, 'signal'>) =>
    call<ListApplicationsResponse>(
      'ListApplications',
      {
        pagination: { offset, limit, asc: true },
        filters: [{ projectIdFilter: { projectId: options.projectId } }, { typeFilter: 'APPLICATION_TYPE_OIDC' }],
      },
      context,
    );

  async function generateSecret(clientId: string, application: ZitadelApplication, context: OperationContext): Promise<string> {
    // Each call issues another secret and ZITADEL keeps only the newest: never marked idempotent, never retried.
    const response = await call<{ clientSecret?: string }>('GenerateClientSecret', ids(application), context);
    if (!response.ok || typeof response.body?.clientSecret !== 'string')
      throw http.errorFromResponse(response, `generating a secret for client ${clientId}`);
    return response.body.clientSecret;
  }

  async function checkReady(context: OperationContext): Promise<ReadinessReport> {
    try {
      const response = await listPage(0, 1, context);
      if (response.ok) return { ready: true };
      const refused = http.errorFromResponse(response, `listing the applications of project ${options.projectId}`);
      return { ready: false, detail: refused.message, reason: refused.code };
    } catch (error) {
      return notReady(error);
    }
  }

  /**
   * Whether this ZITADEL filters ListApplications by client id (zitadel/zitadel#11385, 2026, backported to v4.x):
   * undefined until the first cold lookup tells, then remembered for the adapter's life.
   */
  let filtersByClientId: boolean | undefined;

  /** The project's OIDC application with this client id: one filtered ListApplications, or pages of them on an older ZITADEL. */
  async function findApplication(clientId: string, context: OperationContext): Promise<ZitadelApplication | undefined> {
    if (filtersByClientId !== false) {
      const found = await findByClientIdFilter(clientId, context);
      if (found !== 'unsupported') return found;
    }
    return pageThrough(clientId, context);
  }

  /**
   * One ListApplications with `clientIdFilter` (an exact match) and the project filter. A ZITADEL without the
   * filter refuses it with invalid_argument (its validator finds the search filter empty once the unknown field is
   * dropped), or, were the field dropped silently, lists the project unfiltered: an answer holding another client
   * id tells that too. Either way the adapter pages from then on.
   */
  async function findByClientIdFilter(
    clientId: string,
    context: OperationContext,
  ): Promise<ZitadelApplication | undefined | 'unsupported'> {
    // ZITADEL's client ids are short generated ids; the filter refuses more than 200 characters (a 400 that would
    // otherwise read as "no such filter").
    if (clientId.length === 0 || clientId.length > 200) return undefined;
    const response = await call<ListApplicationsResponse>(
      'ListApplications',
      {
        pagination: { offset: 0, limit: 1, asc: true },
        filters: [
          { projectIdFilter: { projectId: options.projectId } },
          { typeFilter: 'APPLICATION_TYPE_OIDC' },
          { clientIdFilter: { clientId } },
        ],
      },
      context,
    );
    if (response.status === 400 && filtersByClientId !== true) {
      filtersByClientId = false;
      logger.info(`${IDP_NAME} refused ListApplications' client id filter: an older ZITADEL, cold lookups page through the project`);
      return 'unsupported';
    }
    if (!response.ok) throw http.errorFromResponse(response, `looking up the application with client id ${clientId}`);
    const page = response.body?.applications ?? [];
    if (
      page.some((application) => application.oidcConfiguration?.clientId !== clientId) ||
      Number(response.body?.pagination?.totalResult ?? 0) > 1
    ) {
      filtersByClientId = false;
      logger.info(`${IDP_NAME} ignored ListApplications' client id filter: an older ZITADEL, cold lookups page through the project`);
      return 'unsupported';
    }
    filtersByClientId = true;
    return page[0];
  }

  /** The project's OIDC applications, 100 a page, until one has this client id (ZITADEL before the client id filter). */
  async function pageThrough(clientId: string, context: OperationContext): Promise<ZitadelApplication | undefined> {
    for (let offset = 0; ; offset += PAGE_SIZE) {
      const response = await listPage(offset, PAGE_SIZE, context);
      if (!response.ok) throw http.errorFromResponse(response, `listing the applications of project ${options.projectId}`);
      const page = response.body?.applications ?? [];
      const found = page.find((application) => application.oidcConfiguration?.clientId === clientId);
      if (found) return found;
      if (page.length < PAGE_SIZE || offset + page.length >= Number(response.body?.pagination?.totalResult ?? 0)) return undefined;
    }
  }

  async function createApplication(
    registration: ClientRegistration,
    context: CreateContext<ZitadelClient>,
  ): Promise<{ clientId: string; clientSecret: string }> {
    const json = newApplication(registration, options.projectId, context.nonce);
    const created = await call<{ applicationId?: string; oidcConfiguration?: { clientId?: string; clientSecret?: string } }>(
      'CreateApplication',
      json,
      context,
    );
    const clientId = created.body?.oidcConfiguration?.clientId;
    if (!created.ok || typeof created.body?.applicationId !== 'string' || typeof clientId !== 'string')
      throw http.refusal(created, 'the new application');
    const config = json.oidcConfiguration as { redirectUris: string[]; grantTypes: string[]; authMethodType: string };
    // The application exists from here on: tell core, so it is deleted if anything after this fails.
    const application: ZitadelApplication = {
      applicationId: created.body.applicationId,
      name: json.name as string,
      oidcConfiguration: {
        clientId,
        redirectUris: config.redirectUris,
        grantTypes: config.grantTypes,
        authMethodType: config.authMethodType,
      },
    };
    await context.created(clientId, { kind: 'oidcApplication', application });
    const clientSecret = created.body.oidcConfiguration?.clientSecret;
    if (typeof clientSecret !== 'string' || clientSecret === '')
      throw new BridgeError('idp_error', `${IDP_NAME} created application ${created.body.applicationId} without a client secret.`);
    return { clientId, clientSecret };
  }

  const primitives: IdpPrimitives<ZitadelClient> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: `an application or service user id starting with "${APPLICATION_ID_PREFIX}"`,

    async find(clientId, context) {
      // The bridge's service users have their id as username, so their client id starts with the marker: one
      // GetUserByID. Any other client id is an OIDC application's, or a service user the bridge did not create.
      if (isMachineUserClientId(clientId)) {
        const user = await users.findManaged(clientId, context);
        return user && { kind: 'machineUser', user };
      }
      const application = await findApplication(clientId, context);
      if (application) return { kind: 'oidcApplication', application };
      const user = await users.findByUsername(clientId, context);
      return user && { kind: 'machineUser', user };
    },
    isOurs: (client) => (client.kind === 'machineUser' ? isManagedUser(client.user) : isManaged(client.application)),
    registration: REGISTRATION,

    async create(registration, context) {
      if (clientKind(registration) === 'oidcApplication') return createApplication(registration, context);
      return users.create(registration.clientName, registration.redirectUris, {
        ...context,
        created: (clientId, user) => context.created(clientId, user && { kind: 'machineUser', user }),
      });
    },

    async findByNonce(nonce, draft, context) {
      // The bridge chose the user or application id from the nonce: exact lookups, checked against the exact name.
      const user = await users.findByNonce(nonce, draft.clientName, context);
      if (user) return { clientId: user.username, client: { kind: 'machineUser', user } };
      const response = await call<{ application?: ZitadelApplication }>(
        'GetApplication',
        { applicationId: applicationIdFor(nonce) },
        context,
      );
      if (response.status === 404) return undefined;
      const application = response.body?.application;
      if (!response.ok || application === undefined)
        throw http.errorFromResponse(response, `looking up application ${applicationIdFor(nonce)}`);
      const clientId = application.oidcConfiguration?.clientId;
      if (application.name !== clientNameFor(draft.clientName, nonce) || clientId === undefined) return undefined;
      return { clientId, client: { kind: 'oidcApplication', application } };
    },

    async remove(clientId, client, context) {
      if (client.kind === 'machineUser') return users.remove(client.user, context);
      const response = await call('DeleteApplication', ids(client.application), context);
      if (!response.ok && response.status !== 404) throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    rotateSecret: (clientId, client, context) =>
      client.kind === 'machineUser' ? users.rotateSecret(client.user, context) : generateSecret(clientId, client.application, context),

    async replaceRedirectUris(clientId, client, redirectUris, context) {
      // A service user has no redirect URIs of its own: they are kept in its metadata, where an empty list is
      // written as `[]` like any other.
      if (client.kind === 'machineUser') return users.replaceRedirectUris(client.user, redirectUris, context);
      // UpdateApplication changes only the fields it is given; an empty list reads as "not set" in protobuf,
      // so ZITADEL cannot be told to clear the redirect URIs.
      if (redirectUris.length === 0)
        throw new BridgeError(
          'invalid_redirect_uri',
          `${IDP_NAME} cannot remove every redirect URI of an application (an empty list leaves them unchanged): keep at least one.`,
        );
      const response = await call('UpdateApplication', { ...ids(client.application), oidcConfiguration: { redirectUris } }, context);
      if (!response.ok) throw http.refusal(response, `the new redirect URIs of ${clientId}`);
    },

    checkReady,
    diagnostics: zitadelDiagnostics({
      baseUrl,
      settingNames: options.settingNames,
      projectId: options.projectId,
      organizationId: options.organizationId,
      listPage,
      errorFromResponse: http.errorFromResponse,
      getInstance: (context) => callZitadel(http, 'instance', 'GetInstance', {}, context),
      // The v1 AuthService (REST): ZITADEL's v2 services have no "my memberships" read.
      listMyMemberships: (context) =>
        http.post(path`/auth/v1/memberships/me/_search`, {
          json: { query: { offset: '0', limit: 100 } },
          signal: context.signal,
          idempotent: true,
        }),
      probeClientIdFilter: async (context) => {
        const found = await findByClientIdFilter(`${APPLICATION_ID_PREFIX}version-probe`, context);
        return found !== 'unsupported';
      },
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger });
}
