import {
  defineDcrAdapter,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type OperationContext,
  lifecycleSettings,
  type CommonAdapterOptions,
} from '@dcr-bridge/core';
import { createIdpHttpClient, path, staticAuthorization } from '@dcr-bridge/core/idp';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import { MANAGED, REGISTRATION, clientNameFor, isManaged, newClient, type __PASCAL__Client } from './mapping.js';

// Scaffolding from templates/adapter. The primitives below call the made-up admin API of the template's fake
// (test/fake-__ID__.ts): replace every call with __DISPLAY__'s own, following CONTRIBUTING.md ("Adding an IdP"),
// and what a Konnect registration becomes at the IdP in src/mapping.ts.
// Core's lifecycle (`defineDcrAdapter`) does the rest: the registration checks against what the adapter declares
// (`registration`), ownership checks, idempotent delete, one operation per client at a time, the create journal,
// cleanup and recovery.

export interface __PASCAL__AdapterOptions extends CommonAdapterOptions {
  /** Base URL of __DISPLAY__'s admin API. */
  baseUrl: string;
  /** The admin API token the bridge calls __DISPLAY__ with. */
  apiToken: string;
}

export function create__PASCAL__Adapter(options: __PASCAL__AdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: options.baseUrl,
    authorization: staticAuthorization(`Bearer ${options.apiToken}`),
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const clientPath = (clientId: string) => path`/admin/clients/${clientId}`;

  /** The requested scopes __DISPLAY__ has, by name: core refuses the others before anything is created. */
  async function findScopes(names: readonly string[], context: OperationContext): Promise<Map<string, string>> {
    const response = await http.get<Array<{ name: string }>>(path`/admin/scopes`, { signal: context.signal });
    if (!response.ok || !Array.isArray(response.body)) throw http.errorFromResponse(response, 'listing scopes');
    return new Map(response.body.filter((scope) => names.includes(scope.name)).map((scope) => [scope.name, scope.name]));
  }

  async function issueSecret(clientId: string, context: OperationContext): Promise<string> {
    // Each POST issues another secret, so it is not idempotent: never marked, never retried blindly.
    const response = await http.post<{ secret?: string }>(path`${clientPath(clientId)}/secret`, { signal: context.signal });
    if (!response.ok || typeof response.body?.secret !== 'string')
      throw http.errorFromResponse(response, `issuing a secret for ${clientId}`);
    return response.body.secret;
  }

  const primitives: IdpPrimitives<__PASCAL__Client> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: `${MANAGED} metadata entry`,

    find: (clientId, context) =>
      http.find<__PASCAL__Client>(clientPath(clientId), `reading client ${clientId}`, { signal: context.signal }),
    isOurs: isManaged,
    // What __DISPLAY__ accepts (src/mapping.ts) and where its scopes are read: core checks every registration
    // against it before `create`, which only translates.
    registration: { ...REGISTRATION, scopes: { kind: 'looked-up', find: findScopes } },

    async create(registration, context) {
      const json = newClient(registration, context.nonce);
      const created = await http.post<__PASCAL__Client>(path`/admin/clients`, { json, signal: context.signal });
      if (created.status !== 201 || typeof created.body?.id !== 'string') throw http.refusal(created, 'the new client');
      // The client exists from here on: tell core before the next step, so it is deleted if that step fails.
      // Handing over the client as `find` returns it lets core skip the read of a rotate or delete right after.
      await context.created(created.body.id, created.body);
      return { clientId: created.body.id, clientSecret: await issueSecret(created.body.id, context) };
    },

    async findByNonce(nonce, draft, context) {
      // __DISPLAY__'s name search matches substrings: keep only the exact name, and only a client with the marker.
      const name = clientNameFor(draft.clientName, nonce);
      const response = await http.get<__PASCAL__Client[]>(path`/admin/clients`, { query: { name }, signal: context.signal });
      if (!response.ok || !Array.isArray(response.body)) throw http.errorFromResponse(response, `searching for client ${name}`);
      const found = response.body.find((client) => client.name === name && isManaged(client));
      return found ? { clientId: found.id, client: found } : undefined;
    },

    async remove(clientId, _client, context) {
      const response = await http.delete(clientPath(clientId), { signal: context.signal });
      if (!response.ok && response.status !== 404) throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    rotateSecret: (clientId, _client, context) => issueSecret(clientId, context),

    async replaceRedirectUris(clientId, _client, redirectUris, context) {
      // The write carries nothing but the redirect URIs, and repeating it changes nothing more: idempotent.
      // Where your IdP's write replaces the whole client (a PUT of every setting), build it from
      // `await context.current()` (the client as the IdP holds it now), never from `_client`, which may be a
      // copy core remembered from the create: it would undo what an administrator changed since.
      const response = await http.put(path`${clientPath(clientId)}/redirect_uris`, {
        json: { redirect_uris: redirectUris },
        signal: context.signal,
        idempotent: true,
      });
      if (!response.ok) throw http.refusal(response, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe(path`/admin/clients`, 'listing clients', { query: { limit: 1 }, signal: context.signal }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger });
}
