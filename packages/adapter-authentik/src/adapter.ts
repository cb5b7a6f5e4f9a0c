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
import { createIdpHttpClient, path, staticAuthorization } from '@dcr-bridge/core/idp';
import { authentikDiagnostics } from './diagnostics.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import {
  PROVIDER_NAME_PREFIX,
  allowsGrants,
  authentikMessage,
  REGISTRATION,
  clientIdFor,
  grantTypesFor,
  isManaged,
  newApplication,
  newProvider,
  redirectUriEntries,
  scopeMappingsFor,
  withoutSecret,
  type AuthentikPage,
  type AuthentikProvider,
  type AuthentikScopeMapping,
} from './mapping.js';
import { generationOf, readVersion, type Generation } from './versions.js';

export interface AuthentikAdapterOptions extends CommonAdapterOptions {
  /** authentik's base URL (`https://authentik.example.com`): the API is under `/api/v3`, the token endpoint `/application/o/token/`. */
  baseUrl: string;
  /** An API token (intent `API`) of the bridge's service account. */
  apiToken: string;
  /** The pk (UUID) of the flow that authorizes users of the providers the bridge creates. */
  authorizationFlow: string;
  /** The pk (UUID) of the flow that ends their sessions (required by authentik 2024.10 and later). */
  invalidationFlow: string;
}

/** Larger pages than authentik's default, so that a list of scope mappings is one request. */
const PAGE_SIZE = 100;

export function createAuthentikAdapter(options: AuthentikAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: `${baseUrl}/api/v3`,
    authorization: staticAuthorization(`Bearer ${options.apiToken}`),
    describeErrorBody: authentikMessage,
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const flows = { authorizationFlow: options.authorizationFlow, invalidationFlow: options.invalidationFlow };
  // authentik's API paths end in a slash (Django REST framework's router); without it a write is not routed.
  const providerPath = (provider: AuthentikProvider) => path`/providers/oauth2/${provider.pk}/`;
  const applicationPath = (slug: string) => path`/core/applications/${slug}/`;

  /** Every scope mapping, page by page (authentik's pagination: `next` is 0 on the last page). */
  async function listScopeMappings(context: OperationContext): Promise<AuthentikScopeMapping[]> {
    const mappings: AuthentikScopeMapping[] = [];
    let page = 1;
    while (page > 0) {
      const response = await http.get<AuthentikPage<AuthentikScopeMapping>>(path`/propertymappings/provider/scope/`, {
        query: { page, page_size: PAGE_SIZE },
        signal: context.signal,
      });
      if (!response.ok || !Array.isArray(response.body?.results)) throw http.errorFromResponse(response, 'listing scope mappings');
      mappings.push(...response.body.results);
      page = response.body.pagination.next;
    }
    return mappings;
  }

  /**
   * The API generation, read once per adapter from the version authentik reports (`GET /admin/version/`, at the first
   * create): from 2026.5 on a create must send `grant_types`. An upgrade while the bridge runs is caught by the create's
   * answer (see `create`); a failed read is not kept, so the next create asks again.
   */
  let generation: Promise<Generation> | undefined;
  const currentGeneration = (context: OperationContext) => {
    generation ??= readVersion(http, context).then(generationOf);
    generation.catch(() => (generation = undefined));
    return generation;
  };

  /**
   * The secret each look-up read, for `secretValue.read` in the same operation (core passes the same context
   * to `find` and to the read after it): a cold rotation needs no second read. Kept by operation, so a provider
   * core remembers from an earlier operation never yields a secret read then; never in the provider itself.
   */
  const secretsRead = new WeakMap<OperationContext, Map<string, string>>();

  /** The provider whose OAuth client id this is (`client_id` is an exact filter of authentik's provider list). */
  async function providerByClientId(clientId: string, context: OperationContext): Promise<AuthentikProvider | undefined> {
    const response = await http.get<AuthentikPage<AuthentikProvider & { client_secret?: unknown }>>(path`/providers/oauth2/`, {
      query: { client_id: clientId },
      signal: context.signal,
    });
    if (!response.ok || !Array.isArray(response.body?.results)) throw http.errorFromResponse(response, `looking up client ${clientId}`);
    const found = response.body.results.find((provider) => provider.client_id === clientId);
    if (found === undefined) return undefined;
    if (typeof found.client_secret === 'string') {
      const read = secretsRead.get(context) ?? new Map<string, string>();
      read.set(clientId, found.client_secret);
      secretsRead.set(context, read);
    }
    return withoutSecret(found);
  }

  /** The provider's secret as authentik holds it now: the one this operation's look-up read, else `GET /providers/oauth2/{pk}/`. */
  async function currentSecret(clientId: string, provider: AuthentikProvider, context: OperationContext): Promise<string> {
    const read = secretsRead.get(context);
    const known = read?.get(clientId);
    if (known !== undefined) {
      // Once: a later read in this operation (after a write) asks authentik again.
      read?.delete(clientId);
      return known;
    }
    const response = await http.get<{ client_secret?: unknown }>(providerPath(provider), { signal: context.signal });
    if (!response.ok) throw http.errorFromResponse(response, `reading the secret of client ${clientId}`);
    if (typeof response.body?.client_secret !== 'string')
      throw new BridgeError('idp_error', `${IDP_NAME} answered the read of client ${clientId} without its client_secret.`);
    return response.body.client_secret;
  }

  /**
   * Writes some fields of a provider and nothing else (PATCH). Repeating it leaves authentik as one call would, so
   * the HTTP client may retry it: a rotation whose answer was lost is then repeated, and Konnect gets the secret it
   * sets; where the repeat fails too, core's restore puts Konnect's secret back.
   */
  async function patchProvider(provider: AuthentikProvider, json: Record<string, unknown>, what: string, context: OperationContext) {
    const response = await http.request('PATCH', providerPath(provider), { json, signal: context.signal, idempotent: true });
    if (!response.ok) throw http.refusal(response, what);
  }

  const primitives: IdpPrimitives<AuthentikProvider, string[]> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: `a provider named "${PROVIDER_NAME_PREFIX}<client id>"`,

    find: (clientId, context) => providerByClientId(clientId, context),
    isOurs: isManaged,
    registration: {
      ...REGISTRATION,
      scopes: {
        kind: 'looked-up',
        where: 'scope mappings',
        find: async (names, context) => scopeMappingsFor(names, await listScopeMappings(context)),
      },
    },

    async create(registration, context) {
      const scopeMappings = context.scopes.flat();
      const clientId = clientIdFor(registration.clientName, context.nonce);
      // authentik takes the secret from the caller: the bridge generates it, so the answer need not carry it.
      const clientSecret = generateSecret();
      const grantTypes = grantTypesFor(registration);
      const { grantTypes: listsGrants } = await currentGeneration(context);
      const created = await http.post<AuthentikProvider>(path`/providers/oauth2/`, {
        json: newProvider(clientId, clientSecret, registration, scopeMappings, flows, listsGrants ? grantTypes : undefined),
        signal: context.signal,
      });
      if (created.status !== 201 || typeof created.body?.pk !== 'number') throw http.refusal(created, 'the new OAuth2 provider');
      // The client exists from here on: tell core before the next step, so it is deleted if that step fails.
      await context.created(clientId, withoutSecret(created.body));
      if (!allowsGrants(created.body, grantTypes)) {
        // authentik was upgraded to 2026.5 or later since the version was read: its answer lists the provider's grants,
        // and without the ones asked for the token endpoint would refuse every request. Set them, and send them from now on.
        generation = Promise.resolve({ grantTypes: true });
        await patchProvider(created.body, { grant_types: grantTypes }, `the grant types of client ${clientId}`, context);
      }
      const application = await http.post(path`/core/applications/`, {
        json: newApplication(clientId, created.body.pk, registration),
        signal: context.signal,
      });
      if (application.status !== 201) throw http.refusal(application, `the application of client ${clientId}`);
      return { clientId, clientSecret };
    },

    async findByNonce(nonce, draft, context) {
      // The client id follows from the nonce and the application name: one exact lookup.
      const clientId = clientIdFor(draft.clientName, nonce);
      const provider = await providerByClientId(clientId, context);
      return provider && isManaged(provider) ? { clientId, client: provider } : undefined;
    },

    async remove(clientId, provider, context) {
      // The application first: deleting a provider leaves its application behind (its `provider` becomes null),
      // and a retry after a failure here still finds the provider by its client id.
      const application = await http.delete(applicationPath(clientId), { signal: context.signal });
      if (!application.ok && application.status !== 404)
        throw http.errorFromResponse(application, `deleting the application of client ${clientId}`);
      const response = await http.delete(providerPath(provider), { signal: context.signal });
      if (!response.ok && response.status !== 404) throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    async rotateSecret(clientId, provider, context) {
      // The token endpoint compares the client_secret with the provider's: the old secret is dead once this answers.
      const clientSecret = generateSecret();
      await patchProvider(provider, { client_secret: clientSecret }, `the new secret of ${clientId}`, context);
      return clientSecret;
    },

    // Restore: authentik returns a provider's client_secret and takes one of the caller's (a readable, writable
    // field of the provider), so core can put back the secret Konnect holds when Konnect did not get a new one.
    secretValue: {
      read: (clientId, provider, context) => currentSecret(clientId, provider, context),
      // A PATCH of client_secret alone: nothing else of the provider is written.
      set: (clientId, provider, secret, context) =>
        patchProvider(provider, { client_secret: secret }, `the secret Konnect holds for ${clientId}`, context),
    },

    replaceRedirectUris: (clientId, provider, redirectUris, context) =>
      patchProvider(provider, { redirect_uris: redirectUriEntries(redirectUris) }, `the new redirect URIs of ${clientId}`, context),

    checkReady: (context) =>
      http.probe(path`/providers/oauth2/`, 'listing OAuth2 providers', { query: { page_size: 1 }, signal: context.signal }),
    diagnostics: authentikDiagnostics({ http, baseUrl }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger });
}
