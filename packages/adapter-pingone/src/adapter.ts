import {
  BridgeError,
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  path,
  silentLogger,
  type DcrAdapter,
  type IdpResponse,
  type Logger,
  type OperationContext,
} from '@dcr-bridge/core';
import { isManaged, newApplication, pingOneMessage, type PingOneApplication, type PingOneRegion } from './application.js';

export interface PingOneAdapterOptions {
  environmentId: string;
  /** Picks the hosts: api.pingone.{region}/v1 and auth.pingone.{region}. Default `com`. */
  region?: PingOneRegion;
  /** Explicit hosts (override region), e.g. for a custom domain. */
  apiUrl?: string;
  authUrl?: string;
  /** A worker application that may manage applications in the environment. */
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  logger?: Logger;
  timeoutMs?: number;
}

interface Collection<T> {
  _embedded?: Record<string, T[]>;
}

interface ScopeRef {
  resourceId: string;
  scopeId: string;
}

export function createPingOneAdapter(options: PingOneAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const region = options.region ?? 'com';
  const apiUrl = (options.apiUrl ?? `https://api.pingone.${region}/v1`).replace(/\/+$/, '');
  const authUrl = (options.authUrl ?? `https://auth.pingone.${region}`).replace(/\/+$/, '');
  const issuer = `${authUrl}/${encodeURIComponent(options.environmentId)}/as`;
  const tokens = createClientCredentialsTokenProvider({
    issuer,
    tokenEndpoint: `${issuer}/token`,
    clientId: options.clientId,
    auth: { method: 'client_secret_basic', clientSecret: options.clientSecret },
    idpName: 'PingOne',
    fetch: options.fetch,
    logger,
  });
  const http = createIdpHttpClient({
    idpName: 'PingOne',
    baseUrl: apiUrl,
    authorization: bearerAuthorization(tokens),
    describeErrorBody: pingOneMessage,
    fetch: options.fetch,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const environment = path`/environments/${options.environmentId}`;
  const applications = `${environment}/applications`;
  const application = (id: string) => `${applications}${path`/${id}`}`;

  function find(clientId: string, context: OperationContext): Promise<PingOneApplication | undefined> {
    return http.find<PingOneApplication>(application(clientId), `reading application ${clientId}`, { signal: context.signal });
  }

  async function findManaged(clientId: string, context: OperationContext): Promise<PingOneApplication> {
    const found = await find(clientId, context);
    if (!found) throw new BridgeError('not_found', `PingOne has no application ${clientId}.`);
    if (!isManaged(found)) throw new BridgeError('client_not_managed', `Application ${clientId} was not created by the bridge (no dcr-bridge marker in its description); the bridge leaves it alone.`);
    return found;
  }

  /** Scopes belong to resources; finds the resource and scope ids of each requested scope name. */
  async function resolveScopes(names: string[], context: OperationContext): Promise<ScopeRef[]> {
    if (names.length === 0) return [];
    const resources = await http.get<Collection<{ id: string; name: string }>>(`${environment}/resources`, { signal: context.signal });
    if (!resources.ok) throw http.errorFromResponse(resources, 'listing resources');
    const found = new Map<string, ScopeRef>();
    for (const resource of resources.body._embedded?.resources ?? []) {
      const scopes = await http.get<Collection<{ id: string; name: string }>>(`${environment}${path`/resources/${resource.id}/scopes`}`, { signal: context.signal });
      if (!scopes.ok) throw http.errorFromResponse(scopes, `listing the scopes of resource ${resource.name}`);
      for (const scope of scopes.body._embedded?.scopes ?? []) if (names.includes(scope.name) && !found.has(scope.name)) found.set(scope.name, { resourceId: resource.id, scopeId: scope.id });
    }
    const unknown = names.filter((name) => !found.has(name));
    if (unknown.length > 0) throw new BridgeError('invalid_scope', `No PingOne resource in this environment has the scope${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}.`);
    return names.map((name) => found.get(name) as ScopeRef);
  }

  function refused(response: IdpResponse, action: string): BridgeError {
    if (response.status === 400) {
      const message = pingOneMessage(response.body) ?? 'no reason given';
      return new BridgeError(/redirect/i.test(message) ? 'invalid_redirect_uri' : 'invalid_client_metadata', `PingOne refused ${action}: ${message}`);
    }
    return http.errorFromResponse(response, action);
  }

  async function remove(id: string, signal: AbortSignal): Promise<void> {
    const response = await http.delete(application(id), { signal });
    if (response.status !== 204 && response.status !== 404) throw http.errorFromResponse(response, `deleting application ${id}`);
  }

  return {
    id: 'pingone',
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: false },

    async createClient(registration, context) {
      const draft = newApplication(registration);
      const scopes = await resolveScopes(registration.scopes, context);
      const created = await http.post<PingOneApplication>(applications, { json: draft, signal: context.signal });
      if (created.status !== 201 || typeof created.body?.id !== 'string') throw refused(created, 'the application');
      const id = created.body.id;
      try {
        // PingOne does not return the secret on create; it is read separately.
        const secret = await http.get<{ secret?: string }>(`${application(id)}/secret`, { signal: context.signal });
        if (!secret.ok || typeof secret.body?.secret !== 'string') throw http.errorFromResponse(secret, `reading the secret of ${id}`);
        const byResource = new Map<string, string[]>();
        for (const { resourceId, scopeId } of scopes) byResource.set(resourceId, [...(byResource.get(resourceId) ?? []), scopeId]);
        for (const [resourceId, scopeIds] of byResource) {
          const grant = await http.post(`${application(id)}/grants`, { json: { resource: { id: resourceId }, scopes: scopeIds.map((scopeId) => ({ id: scopeId })) }, signal: context.signal });
          if (!grant.ok) throw http.errorFromResponse(grant, `granting scopes to ${id}`);
        }
        return { clientId: id, clientSecret: secret.body.secret, clientIdIssuedAt: typeof created.body.createdAt === 'string' ? new Date(created.body.createdAt) : undefined };
      } catch (error) {
        await remove(id, AbortSignal.timeout(5000)).catch((cleanup: unknown) =>
          context.logger.error('could not remove a half-created application: delete it in PingOne by hand', { clientId: id, error: cleanup }),
        );
        throw error;
      }
    },

    async deleteClient(clientId, context) {
      const found = await find(clientId, context);
      if (!found) return;
      if (!isManaged(found)) throw new BridgeError('client_not_managed', `Application ${clientId} was not created by the bridge; the bridge leaves it alone.`);
      await remove(clientId, context.signal);
    },

    async rotateSecret(clientId, context) {
      await findManaged(clientId, context);
      // No `previous` in the body: the old secret stops working at once.
      const response = await http.post<{ secret?: string }>(`${application(clientId)}/secret`, { signal: context.signal });
      if (!response.ok || typeof response.body?.secret !== 'string') throw http.errorFromResponse(response, `rotating the secret of ${clientId}`);
      return { clientId, clientSecret: response.body.secret };
    },

    async applyEvent(clientId, event, context) {
      if (event.type !== 'update_application') return;
      const found = await findManaged(clientId, context);
      // PUT replaces the whole application: send back what was read, with the new redirect URIs.
      const { id: _id, createdAt: _created, updatedAt: _updated, environment: _environment, _links: _linkSet, ...writable } = found;
      const updated = await http.put(application(clientId), { json: { ...writable, redirectUris: event.redirectUris }, signal: context.signal });
      if (!updated.ok) throw refused(updated, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe(applications, 'listing applications', { query: { limit: 1 }, signal: context.signal }),
  };
}
