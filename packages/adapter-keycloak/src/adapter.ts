import { createHash } from 'node:crypto';
import {
  BridgeError,
  defineDcrAdapter,
  generateSecret,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type OperationContext,
  lifecycleSettings,
  type CommonAdapterOptions,
} from '@dcr-bridge/core';
import { bearerAuthorization, createClientCredentialsTokenProvider, createIdpHttpClient, path, type IdpTarget } from '@dcr-bridge/core/idp';
import { keycloakDiagnostics } from './diagnostics.js';
import {
  MANAGED_ATTRIBUTE,
  clientIdFor,
  REGISTRATION,
  clientRepresentation,
  isManaged,
  keycloakMessage,
  withoutSecret,
  type KeycloakClient,
} from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';

export interface KeycloakAdapterOptions extends CommonAdapterOptions {
  /** Server base URL, with its path prefix on older servers (e.g. https://sso.example.com/auth). */
  baseUrl: string;
  /** The realm where clients are created. */
  realm: string;
  /** A confidential client whose service account may manage clients in `realm`. */
  clientId: string;
  clientSecret: string;
  /** The realm of that client, when it is not `realm` (e.g. master). Default `realm`. */
  tokenRealm?: string;
}

interface ProtocolMapper {
  id?: string;
  name: string;
  protocol: string;
  protocolMapper: string;
  config: Record<string, string>;
}

type FoundClient = KeycloakClient & { id: string };

interface ClientScope {
  id: string;
  name: string;
}

/**
 * The id the bridge gives the audience mapper of `audience` on a client (Keycloak keeps an id the create
 * carries), so that removing it needs no listing: a UUID (version 8) from the client's internal id and the audience.
 */
function audienceMapperId(clientInternalId: string, audience: string): string {
  const hex = createHash('sha256').update(`${clientInternalId}\n${audience}`).digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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
    idpName: IDP_NAME,
    dispatcher: options.dispatcher,
    logger,
  });
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: base,
    authorization: bearerAuthorization(tokens),
    describeErrorBody: keycloakMessage,
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const realm = options.realm;
  const clients = path`/admin/realms/${realm}/clients`;
  const client = (id: string) => path`${clients}/${id}`;

  /** The client by its clientId (what Konnect knows); Keycloak's own paths use its internal id. */
  async function find(clientId: string, context: OperationContext): Promise<FoundClient | undefined> {
    const response = await http.get<KeycloakClient[]>(clients, { query: { clientId, search: false }, signal: context.signal });
    if (!response.ok || !Array.isArray(response.body)) throw http.errorFromResponse(response, `looking up client ${clientId}`);
    const found = response.body.find(
      (candidate): candidate is FoundClient => candidate.clientId === clientId && typeof candidate.id === 'string',
    );
    return found && withoutSecret(found);
  }

  async function listScopes(target: IdpTarget, action: string, context: OperationContext): Promise<ClientScope[]> {
    const response = await http.get<ClientScope[]>(target, { signal: context.signal });
    if (!response.ok || !Array.isArray(response.body)) throw http.errorFromResponse(response, action);
    return response.body;
  }

  /**
   * The ids of the requested scopes the realm has, by name (core refuses the others before the create: Keycloak
   * would silently ignore an unknown name).
   */
  async function findScopes(names: readonly string[], context: OperationContext): Promise<Map<string, string>> {
    const known = await listScopes(path`/admin/realms/${realm}/client-scopes`, 'listing client scopes', context);
    return new Map(known.filter((scope) => names.includes(scope.name)).map((scope) => [scope.name, scope.id]));
  }

  /**
   * How the requested scopes reach the client, in the fewest calls. Keycloak gives a new client the realm's
   * default and optional client scopes; `defaultClientScopes` in the create replaces both lists, so the
   * bridge can only use it with the realm's lists in hand (two more reads). One scope: a PUT after the
   * create (3 calls in all, with core's read of the scope list). Two or more: the realm's lists read after the
   * scope list, and everything in the create (4 calls, whatever the number). Either way the client ends with the realm's default scopes
   * plus the requested ones as default scopes and the realm's optional scopes as optional ones; a
   * requested scope the realm makes optional stays optional (Keycloak skips a scope a client already has).
   */
  async function scopePlan(
    names: string[],
    ids: string[],
    context: OperationContext,
  ): Promise<{ assignAfterCreate: string[]; inCreate: Pick<KeycloakClient, 'defaultClientScopes' | 'optionalClientScopes'> }> {
    if (names.length === 0) return { assignAfterCreate: [], inCreate: {} };
    if (names.length === 1) return { assignAfterCreate: ids, inCreate: {} };
    const [defaults, optionals] = await Promise.all([
      listScopes(path`/admin/realms/${realm}/default-default-client-scopes`, "listing the realm's default client scopes", context),
      listScopes(path`/admin/realms/${realm}/default-optional-client-scopes`, "listing the realm's optional client scopes", context),
    ]);
    const optional = new Set(optionals.map((scope) => scope.name));
    const defaultClientScopes = [...new Set([...defaults.map((scope) => scope.name), ...names.filter((name) => !optional.has(name))])];
    return { assignAfterCreate: [], inCreate: { defaultClientScopes, optionalClientScopes: [...optional] } };
  }

  const mapperName = (audience: string) => `dcr-bridge-audience-${createHash('sha256').update(audience).digest('hex').slice(0, 16)}`;
  const mappers = (found: FoundClient) => path`${client(found.id)}/protocol-mappers/models`;

  const primitives: IdpPrimitives<FoundClient> = {
    id: ADAPTER_ID,
    idpName: `${IDP_NAME} realm ${realm}`,
    marker: `${MANAGED_ATTRIBUTE} attribute`,
    find,
    isOurs: isManaged,
    registration: { ...REGISTRATION, scopes: { kind: 'looked-up', where: 'client scopes of the realm', find: findScopes } },

    async create(registration, context) {
      const representation = clientRepresentation(registration, context.nonce);
      const scopes = await scopePlan(registration.scopes, context.scopes, context);
      // The bridge gives the secret (Keycloak keeps a secret the create carries), so no read of it follows.
      const clientSecret = generateSecret();
      const created = await http.post(clients, {
        json: { ...representation, ...scopes.inCreate, secret: clientSecret },
        signal: context.signal,
      });
      if (created.status !== 201) throw http.refusal(created, 'the client');
      const id = created.headers.get('location')?.split('/').pop();
      await context.created(representation.clientId, id ? { ...representation, id } : undefined);
      if (!id) throw new BridgeError('idp_error', `${IDP_NAME} created client ${representation.clientId} but sent no Location header.`);
      for (const scopeId of scopes.assignAfterCreate) {
        const assigned = await http.put(path`${client(id)}/default-client-scopes/${scopeId}`, {
          signal: context.signal,
          idempotent: true,
        });
        if (!assigned.ok) throw http.errorFromResponse(assigned, 'assigning a client scope');
      }
      return { clientId: representation.clientId, clientSecret };
    },

    async findByNonce(nonce, draft, context) {
      // The clientId is the application name's slug with the nonce as its unique suffix: one exact lookup.
      const clientId = clientIdFor(draft.clientName, nonce);
      const found = await find(clientId, context);
      return found ? { clientId, client: found } : undefined;
    },

    async remove(clientId, found, context) {
      const response = await http.delete(client(found.id), { signal: context.signal });
      if (response.status !== 204 && response.status !== 404) throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    async rotateSecret(clientId, found, context) {
      const response = await http.post<{ value?: string }>(path`${client(found.id)}/client-secret`, { signal: context.signal });
      if (!response.ok || typeof response.body?.value !== 'string')
        throw http.errorFromResponse(response, `rotating the secret of ${clientId}`);
      return response.body.value;
    },

    // Restore (core's RotationMode): Konnect's secret is read before a rotation and, when Konnect did not get the
    // new one, put back. Keycloak keeps one secret per client; its "secret-rotation" client policy keeps the
    // previous one too, but only as realm configuration the bridge neither holds nor controls (see the README).
    secretValue: {
      async read(clientId, found, context) {
        const response = await http.get<{ type?: string; value?: string }>(path`${client(found.id)}/client-secret`, {
          signal: context.signal,
        });
        if (!response.ok || typeof response.body?.value !== 'string')
          throw http.errorFromResponse(response, `reading the secret of ${clientId}`);
        return response.body.value;
      },
      async set(clientId, found, secret, context) {
        // Keycloak applies only the fields a PUT carries (RepresentationToModel.updateClient sets a non-null
        // `secret`), so the write holds the secret alone and cannot undo a concurrent change of anything else.
        // Repeating it leaves Keycloak as one call would: safe to retry.
        const updated = await http.put(client(found.id), { json: { secret }, signal: context.signal, idempotent: true });
        if (!updated.ok) throw http.errorFromResponse(updated, `putting back the secret of ${clientId}`);
      },
    },

    async replaceRedirectUris(clientId, found, redirectUris, context) {
      // Keycloak applies only the fields a PUT carries, so the write holds nothing but the redirect URIs:
      // never a secret read earlier, which a concurrent rotation would see undone.
      const updated = await http.put(client(found.id), { json: { redirectUris }, signal: context.signal, idempotent: true });
      if (!updated.ok) throw http.refusal(updated, `the new redirect URIs of ${clientId}`);
    },

    async addAudience(clientId, found, audience, context) {
      const mapper: ProtocolMapper = {
        id: audienceMapperId(found.id, audience),
        name: mapperName(audience),
        protocol: 'openid-connect',
        protocolMapper: 'oidc-audience-mapper',
        config: {
          'included.custom.audience': audience,
          'access.token.claim': 'true',
          'id.token.claim': 'false',
          'introspection.token.claim': 'true',
        },
      };
      const added = await http.post(mappers(found), { json: mapper, signal: context.signal });
      // 409: the mapper for this audience exists already (a repeated event), which is the goal.
      if (!added.ok && added.status !== 409) throw http.errorFromResponse(added, `adding audience ${audience} to ${clientId}`);
    },

    async removeAudience(clientId, found, audience, context) {
      const removed = await http.delete(path`${mappers(found)}/${audienceMapperId(found.id, audience)}`, { signal: context.signal });
      if (removed.ok) return;
      if (removed.status !== 404) throw http.errorFromResponse(removed, `removing audience ${audience} from ${clientId}`);
      // No mapper with the bridge's id: the client is gone, the audience was never added, or an earlier
      // version of the bridge added it under an id of Keycloak's. Look for it by name.
      const listed = await http.get<ProtocolMapper[]>(mappers(found), { signal: context.signal });
      if (!listed.ok || !Array.isArray(listed.body)) throw http.errorFromResponse(listed, `listing the mappers of ${clientId}`);
      for (const mapper of listed.body.filter((candidate) => candidate.name === mapperName(audience) && candidate.id)) {
        const deleted = await http.delete(path`${mappers(found)}/${mapper.id as string}`, { signal: context.signal });
        if (!deleted.ok && deleted.status !== 404) throw http.errorFromResponse(deleted, `removing audience ${audience} from ${clientId}`);
      }
    },

    checkReady: (context) => http.probe(clients, 'listing clients', { query: { first: 0, max: 1 }, signal: context.signal }),
    diagnostics: keycloakDiagnostics({
      http,
      tokens,
      baseUrl: base,
      realm,
      tokenRealm,
      clientId: options.clientId,
      settingNames: options.settingNames,
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger });
}
