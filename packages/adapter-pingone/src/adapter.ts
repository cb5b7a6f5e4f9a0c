import {
  BridgeError,
  createJsonStore,
  createMemoryDriver,
  defineDcrAdapter,
  lifecycleSettings,
  type CommonAdapterOptions,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type OperationContext,
} from '@dcr-bridge/core';
import {
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  path,
  type IdpResponse,
  type IdpTarget,
} from '@dcr-bridge/core/idp';
import { pingOneDiagnostics } from './diagnostics.js';
import {
  REGISTRATION,
  applicationName,
  isManaged,
  newApplication,
  pingOneMessage,
  type PingOneApplication,
  type PingOneRegion,
} from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import { MAX_OVERLAP_MS, pingOneSecrets } from './secrets.js';

export interface PingOneAdapterOptions extends CommonAdapterOptions {
  environmentId: string;
  /** Picks the hosts: api.pingone.{region}/v1 and auth.pingone.{region}. Default `com`. */
  region?: PingOneRegion;
  /** Explicit hosts (override region), e.g. for a custom domain. */
  apiUrl?: string;
  authUrl?: string;
  /** A worker application that may manage applications in the environment. */
  clientId: string;
  clientSecret: string;
}

interface Collection<T> {
  _embedded?: Record<string, T[]>;
  _links?: { next?: { href?: string } };
}

interface ScopeRef {
  resourceId: string;
  scopeId: string;
}

export function createPingOneAdapter(options: PingOneAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  if ((options.rotationOverlapMs ?? 0) > MAX_OVERLAP_MS) {
    throw new Error(
      `${IDP_NAME} keeps an application's previous secret for at most 30 days: set the rotation overlap to at most 29 days (${ADAPTER_ID} adapter).`,
    );
  }
  // Core's journal, shared with the secrets' own records (the application's secret Konnect never got).
  const journal = options.journal ?? createJsonStore(createMemoryDriver());
  const region = options.region ?? 'com';
  const apiUrl = (options.apiUrl ?? `https://api.pingone.${region}/v1`).replace(/\/+$/, '');
  const authUrl = (options.authUrl ?? `https://auth.pingone.${region}`).replace(/\/+$/, '');
  const issuer = `${authUrl}/${encodeURIComponent(options.environmentId)}/as`;
  const tokens = createClientCredentialsTokenProvider({
    issuer,
    tokenEndpoint: `${issuer}/token`,
    clientId: options.clientId,
    auth: { method: 'client_secret_basic', clientSecret: options.clientSecret },
    idpName: IDP_NAME,
    dispatcher: options.dispatcher,
    logger,
  });
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: apiUrl,
    authorization: bearerAuthorization(tokens),
    describeErrorBody: pingOneMessage,
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const environment = path`/environments/${options.environmentId}`;
  const applications = path`${environment}/applications`;
  const application = (id: string) => path`${applications}/${id}`;
  const applicationList = new URL(`${apiUrl}${applications}`);
  const secrets = pingOneSecrets({ http, application, journal, logger });

  function find(clientId: string, context: OperationContext): Promise<PingOneApplication | undefined> {
    return http.find<PingOneApplication>(application(clientId), `reading application ${clientId}`, { signal: context.signal });
  }

  /** The next page of the application list, or undefined on the last page. */
  function nextPage(page: Collection<PingOneApplication>): URL | undefined {
    const href = page._links?.next?.href;
    if (href === undefined) return undefined;
    const next = new URL(href, applicationList);
    // The worker token goes with the request: follow only links back to the same list.
    if (next.origin !== applicationList.origin || next.pathname !== applicationList.pathname) {
      throw new BridgeError('idp_error', `${IDP_NAME} sent a next-page link outside the application list; the bridge does not follow it.`);
    }
    return next;
  }

  /**
   * Scopes belong to resources; finds the resource and scope ids of each requested scope name (core refuses the
   * names not found). Neither list takes a filter, so the resources are read in PingOne's order until every
   * name is found (a name two resources share goes to the first); an unknown name costs a read of every
   * resource's scopes.
   */
  async function findScopes(names: readonly string[], context: OperationContext): Promise<Map<string, ScopeRef>> {
    const wanted = new Set(names);
    const resources = await http.get<Collection<{ id: string; name: string }>>(path`${environment}/resources`, { signal: context.signal });
    if (!resources.ok) throw http.errorFromResponse(resources, 'listing resources');
    const found = new Map<string, ScopeRef>();
    for (const resource of resources.body._embedded?.resources ?? []) {
      if (found.size === wanted.size) break;
      const scopes = await http.get<Collection<{ id: string; name: string }>>(path`${environment}/resources/${resource.id}/scopes`, {
        signal: context.signal,
      });
      if (!scopes.ok) throw http.errorFromResponse(scopes, `listing the scopes of resource ${resource.name}`);
      for (const scope of scopes.body._embedded?.scopes ?? [])
        if (wanted.has(scope.name) && !found.has(scope.name)) found.set(scope.name, { resourceId: resource.id, scopeId: scope.id });
    }
    return found;
  }

  const primitives: IdpPrimitives<PingOneApplication, ScopeRef> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: 'dcr-bridge marker line in its description',
    find,
    isOurs: isManaged,
    registration: { ...REGISTRATION, scopes: { kind: 'looked-up', where: 'scopes of its resources', find: findScopes } },

    async create(registration, context) {
      const draft = newApplication(registration, context.nonce);
      const created = await http.post<PingOneApplication>(applications, { json: draft, signal: context.signal });
      if (created.status !== 201 || typeof created.body?.id !== 'string') throw http.refusal(created, 'the application');
      const id = created.body.id;
      // The create answer is the application as a read returns it: core remembers it, so a rotation or a
      // delete right after needs no read.
      await context.created(id, created.body);
      // PingOne does not return the secret on create; it is read separately.
      const secret = await http.get<{ secret?: string }>(path`${application(id)}/secret`, { signal: context.signal });
      if (!secret.ok || typeof secret.body?.secret !== 'string') throw http.errorFromResponse(secret, `reading the secret of ${id}`);
      const byResource = new Map<string, string[]>();
      for (const { resourceId, scopeId } of context.scopes) byResource.set(resourceId, [...(byResource.get(resourceId) ?? []), scopeId]);
      for (const [resourceId, scopeIds] of byResource) {
        const grant = await http.post(path`${application(id)}/grants`, {
          json: { resource: { id: resourceId }, scopes: scopeIds.map((scopeId) => ({ id: scopeId })) },
          signal: context.signal,
        });
        if (!grant.ok) throw http.errorFromResponse(grant, `granting scopes to ${id}`);
      }
      return {
        clientId: id,
        clientSecret: secret.body.secret,
        clientIdIssuedAt: typeof created.body.createdAt === 'string' ? new Date(created.body.createdAt) : undefined,
      };
    },

    async findByNonce(nonce, draft, context) {
      // The application list takes no filter (PingOne's API reference names none for it): page through it
      // and match the exact name, which ends in the nonce.
      const name = applicationName(draft.clientName, nonce);
      let page: IdpTarget | undefined = applications;
      while (page !== undefined) {
        const listed: IdpResponse<Collection<PingOneApplication>> = await http.get(page, {
          signal: context.signal,
          route: applications.route,
        });
        if (!listed.ok || typeof listed.body !== 'object' || listed.body === null)
          throw http.errorFromResponse(listed, 'listing applications');
        const match = listed.body._embedded?.applications?.find((candidate) => candidate.name === name && typeof candidate.id === 'string');
        if (match) return { clientId: match.id as string, client: match };
        page = nextPage(listed.body);
      }
      return undefined;
    },

    async remove(clientId, _application, context) {
      const response = await http.delete(application(clientId), { signal: context.signal });
      if (response.status !== 204 && response.status !== 404) throw http.errorFromResponse(response, `deleting application ${clientId}`);
      await secrets.forget(clientId);
    },

    // The current secret and the previous one, kept until Konnect got the new one (see secrets.ts).
    secrets,

    async replaceRedirectUris(clientId, _remembered, redirectUris, context) {
      // PUT replaces the whole application: send back the application as PingOne holds it now (never a
      // remembered copy, which would undo an administrator's changes), minus the read-only fields. The secret
      // is not part of it (PingOne keeps it at …/secret), and core runs one operation per application at a
      // time, so no change made between the read and this write is undone.
      const current = await context.current();
      const { id: _id, createdAt: _created, updatedAt: _updated, environment: _environment, _links: _linkSet, ...writable } = current;
      const updated = await http.put(application(clientId), {
        json: { ...writable, redirectUris },
        signal: context.signal,
        idempotent: true,
      });
      if (!updated.ok) throw http.refusal(updated, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe(applications, 'listing applications', { query: { limit: 1 }, signal: context.signal }),
    diagnostics: pingOneDiagnostics({
      http,
      apiUrl,
      issuer,
      environmentId: options.environmentId,
      workerId: options.clientId,
      settingNames: options.settingNames,
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), journal, logger });
}
