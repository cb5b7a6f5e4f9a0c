import { createHash } from 'node:crypto';
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
import { clientRepresentation, isManaged, keycloakMessage, type KeycloakClient } from './representation.js';

export interface KeycloakAdapterOptions {
  /** Server base URL, with its path prefix on older servers (e.g. https://sso.example.com/auth). */
  baseUrl: string;
  /** The realm where clients are created. */
  realm: string;
  /** A confidential client whose service account may manage clients in `realm`. */
  clientId: string;
  clientSecret: string;
  /** The realm of that client, when it is not `realm` (e.g. master). Default `realm`. */
  tokenRealm?: string;
  fetch?: typeof fetch;
  logger?: Logger;
  timeoutMs?: number;
}

interface ProtocolMapper {
  id?: string;
  name: string;
  protocol: string;
  protocolMapper: string;
  config: Record<string, string>;
}

export function createKeycloakAdapter(options: KeycloakAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const base = options.baseUrl.replace(/\/+$/, '');
  const tokenRealm = options.tokenRealm ?? options.realm;
  const issuer = `${base}/realms/${encodeURIComponent(tokenRealm)}`;
  const tokens = createClientCredentialsTokenProvider({
    issuer,
    tokenEndpoint: `${issuer}/protocol/openid-connect/token`,
    clientId: options.clientId,
    auth: { method: 'client_secret_basic', clientSecret: options.clientSecret },
    idpName: 'Keycloak',
    fetch: options.fetch,
    logger,
  });
  const http = createIdpHttpClient({
    idpName: 'Keycloak',
    baseUrl: base,
    authorization: bearerAuthorization(tokens),
    describeErrorBody: keycloakMessage,
    fetch: options.fetch,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const realm = options.realm;
  const clients = path`/admin/realms/${realm}/clients`;
  const client = (id: string) => `${clients}${path`/${id}`}`;

  /** The client by its clientId (what Konnect knows), or undefined; Keycloak's own paths use its internal id. */
  async function find(clientId: string, context: OperationContext): Promise<KeycloakClient | undefined> {
    const response = await http.get<KeycloakClient[]>(clients, { query: { clientId, search: false }, signal: context.signal });
    if (!response.ok || !Array.isArray(response.body)) throw http.errorFromResponse(response, `looking up client ${clientId}`);
    return response.body.find((candidate) => candidate.clientId === clientId);
  }

  async function findManaged(clientId: string, context: OperationContext): Promise<KeycloakClient & { id: string }> {
    const found = await find(clientId, context);
    if (!found?.id) throw new BridgeError('not_found', `Keycloak realm ${realm} has no client ${clientId}.`);
    if (!isManaged(found)) throw new BridgeError('client_not_managed', `Client ${clientId} was not created by the bridge (it has no dcr-bridge.managed attribute); the bridge leaves it alone.`);
    return found as KeycloakClient & { id: string };
  }

  async function scopeIds(names: string[], context: OperationContext): Promise<string[]> {
    if (names.length === 0) return [];
    const response = await http.get<Array<{ id: string; name: string }>>(path`/admin/realms/${realm}/client-scopes`, { signal: context.signal });
    if (!response.ok || !Array.isArray(response.body)) throw http.errorFromResponse(response, 'listing client scopes');
    const byName = new Map(response.body.map((scope) => [scope.name, scope.id]));
    // Keycloak silently ignores unknown scope names; the bridge refuses them before creating anything.
    const unknown = names.filter((name) => !byName.has(name));
    if (unknown.length > 0) {
      throw new BridgeError('invalid_scope', `Keycloak realm ${realm} has no client scope${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}.`);
    }
    return names.map((name) => byName.get(name) as string);
  }

  function createError(response: IdpResponse): BridgeError {
    const message = keycloakMessage(response.body) ?? 'no reason given';
    if (response.status === 400) {
      return new BridgeError(/redirect/i.test(message) ? 'invalid_redirect_uri' : 'invalid_client_metadata', `Keycloak refused the client: ${message}.`);
    }
    if (response.status === 409) return new BridgeError('conflict', `Keycloak refused the client: ${message}.`);
    return http.errorFromResponse(response, 'creating the client');
  }

  async function remove(id: string, signal: AbortSignal): Promise<void> {
    const response = await http.delete(client(id), { signal });
    if (response.status !== 204 && response.status !== 404) throw http.errorFromResponse(response, 'deleting the client');
  }

  const mapperName = (audience: string) => `dcr-bridge-audience-${createHash('sha256').update(audience).digest('hex').slice(0, 16)}`;

  return {
    id: 'keycloak',
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: true },

    async createClient(registration, context) {
      const representation = clientRepresentation(registration);
      const scopes = await scopeIds(registration.scopes, context);
      const created = await http.post(clients, { json: representation, signal: context.signal });
      if (created.status !== 201) throw createError(created);
      const id = created.headers.get('location')?.split('/').pop();
      if (!id) throw new BridgeError('idp_error', `Keycloak created client ${representation.clientId} but sent no Location header; delete it in realm ${realm} by hand.`);
      try {
        for (const scopeId of scopes) {
          const assigned = await http.put(`${client(id)}${path`/default-client-scopes/${scopeId}`}`, { signal: context.signal });
          if (!assigned.ok) throw http.errorFromResponse(assigned, 'assigning a client scope');
        }
        const secret = await http.get<{ value?: string }>(`${client(id)}/client-secret`, { signal: context.signal });
        if (!secret.ok || typeof secret.body?.value !== 'string') throw http.errorFromResponse(secret, 'reading the client secret');
        return { clientId: representation.clientId, clientSecret: secret.body.value };
      } catch (error) {
        // No half-created client: its own budget, since the request's may be what ran out.
        await remove(id, AbortSignal.timeout(5000)).catch((cleanup: unknown) =>
          context.logger.error('could not remove a half-created client: delete it in Keycloak by hand', { clientId: representation.clientId, error: cleanup }),
        );
        throw error;
      }
    },

    async deleteClient(clientId, context) {
      const found = await find(clientId, context);
      if (!found?.id) return;
      if (!isManaged(found)) throw new BridgeError('client_not_managed', `Client ${clientId} was not created by the bridge; the bridge leaves it alone.`);
      await remove(found.id, context.signal);
    },

    async rotateSecret(clientId, context) {
      const found = await findManaged(clientId, context);
      const response = await http.post<{ value?: string }>(`${client(found.id)}/client-secret`, { signal: context.signal });
      if (!response.ok || typeof response.body?.value !== 'string') throw http.errorFromResponse(response, `rotating the secret of ${clientId}`);
      return { clientId, clientSecret: response.body.value };
    },

    async applyEvent(clientId, event, context) {
      const found = await findManaged(clientId, context);
      if (event.type === 'update_application') {
        // Read the full representation and write it back, so that nothing but the redirect URIs changes.
        const current = await http.get<KeycloakClient>(client(found.id), { signal: context.signal });
        if (!current.ok || typeof current.body !== 'object') throw http.errorFromResponse(current, `reading client ${clientId}`);
        const updated = await http.put(client(found.id), { json: { ...current.body, redirectUris: event.redirectUris }, signal: context.signal });
        if (updated.status === 400) throw createError(updated);
        if (!updated.ok) throw http.errorFromResponse(updated, `updating client ${clientId}`);
        return;
      }
      if (!event.audience) return;
      const mappers = `${client(found.id)}/protocol-mappers/models`;
      const name = mapperName(event.audience);
      if (event.type === 'add_registration') {
        const mapper: ProtocolMapper = {
          name,
          protocol: 'openid-connect',
          protocolMapper: 'oidc-audience-mapper',
          config: { 'included.custom.audience': event.audience, 'access.token.claim': 'true', 'id.token.claim': 'false', 'introspection.token.claim': 'true' },
        };
        const added = await http.post(mappers, { json: mapper, signal: context.signal });
        // 409: the mapper for this audience exists already (a repeated event), which is the goal.
        if (!added.ok && added.status !== 409) throw http.errorFromResponse(added, `adding audience ${event.audience} to ${clientId}`);
        return;
      }
      const listed = await http.get<ProtocolMapper[]>(mappers, { signal: context.signal });
      if (!listed.ok || !Array.isArray(listed.body)) throw http.errorFromResponse(listed, `listing the mappers of ${clientId}`);
      for (const mapper of listed.body.filter((candidate) => candidate.name === name && candidate.id)) {
        const removed = await http.delete(`${mappers}${path`/${mapper.id as string}`}`, { signal: context.signal });
        if (!removed.ok && removed.status !== 404) throw http.errorFromResponse(removed, `removing audience ${event.audience} from ${clientId}`);
      }
    },

    checkReady: (context) => http.probe(clients, 'listing clients', { query: { first: 0, max: 1 }, signal: context.signal }),
  };
}
