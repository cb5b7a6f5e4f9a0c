import { randomBytes, randomUUID } from 'node:crypto';
import { BridgeError, defineDcrAdapter, type IdpPrimitives, type LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '../src/index.js';

/**
 * The suite run against the smallest adapter there is: an in-memory "IdP"'s primitives handed to core's
 * lifecycle. It proves the scenarios, the lifecycle and the HTTP layer together; real adapters run the
 * same suite against their IdP.
 */
interface MemoryClient {
  /** Konnect's application name and the create's nonce, as real IdPs carry it: recovery finds a lost create by it. */
  name: string;
  secret: string;
  redirectUris: string[];
  managed: boolean;
  audiences: string[];
  /** A note an administrator may write at the IdP; the bridge never sets it. */
  note?: string;
}

function createMemoryIdp() {
  const clients = new Map<string, MemoryClient>();
  /** Every primitive called, oldest first: this IdP's request log (`idp.adminRequests`). */
  const calls: string[] = [];
  /** The IdP hands out copies, as one over the wire does: a client core remembers is as it was read. */
  const copy = (client: MemoryClient): MemoryClient => structuredClone(client);
  const stored = (clientId: string): MemoryClient => {
    const client = clients.get(clientId);
    if (!client) throw new BridgeError('not_found', `The memory IdP has no client ${clientId}.`);
    return client;
  };
  const primitives: IdpPrimitives<MemoryClient> = {
    id: 'memory',
    idpName: 'The memory IdP',
    marker: 'managed flag',
    async find(clientId) {
      calls.push(`find ${clientId}`);
      const client = clients.get(clientId);
      return client && copy(client);
    },
    isOurs: (client) => client.managed,
    registration: {
      idp: 'The memory IdP',
      clients: 'memory clients',
      authMethods: ['client_secret_basic', 'client_secret_post'],
      grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
      scopes: { kind: 'checked-by-idp' },
    },
    async create(registration, context) {
      calls.push('create');
      if (registration.scopes.includes('unknown-scope')) throw new BridgeError('invalid_scope', 'Scope "unknown-scope" does not exist.');
      const clientId = randomUUID();
      const secret = randomBytes(16).toString('hex');
      const name = `${registration.clientName}-${context.nonce}`;
      const client = { name, secret, redirectUris: registration.redirectUris, managed: true, audiences: [] };
      clients.set(clientId, client);
      await context.created(clientId, copy(client));
      return { clientId, clientSecret: secret };
    },
    async findByNonce(nonce, { clientName }) {
      calls.push(`findByNonce ${nonce}`);
      const found = [...clients].find(([, client]) => client.managed && client.name === `${clientName}-${nonce}`);
      return found && { clientId: found[0], client: copy(found[1]) };
    },
    remove: async (clientId) => void (calls.push(`remove ${clientId}`), clients.delete(clientId)),
    async rotateSecret(clientId) {
      calls.push(`rotateSecret ${clientId}`);
      const client = stored(clientId);
      client.secret = randomBytes(16).toString('hex');
      return client.secret;
    },
    // This IdP's update replaces the whole client, as many do (a PUT of every setting): it sends back the
    // client as the IdP holds it now, never the copy core may remember from the create.
    async replaceRedirectUris(clientId, _remembered, redirectUris, context) {
      const current = await context.current();
      calls.push(`replaceRedirectUris ${clientId}`);
      stored(clientId);
      clients.set(clientId, { ...current, redirectUris });
    },
    async addAudience(clientId, _client, audience) {
      calls.push(`addAudience ${clientId}`);
      const client = stored(clientId);
      client.audiences = [...new Set([...client.audiences, audience])];
    },
    async removeAudience(clientId, _client, audience) {
      calls.push(`removeAudience ${clientId}`);
      const client = stored(clientId);
      client.audiences = client.audiences.filter((candidate) => candidate !== audience);
    },
    checkReady: async () => ({ ready: true }),
  };
  const adapter = defineDcrAdapter(primitives);
  return {
    adapter,
    build: (settings: LifecycleSettings) => defineDcrAdapter(primitives, settings),
    idp: { adminRequests: () => calls },
    // One primitive per operation on a client core remembers; a cold adapter reads (`find`) it first. The update
    // writes the whole client back: it reads the current one (`context.current()`), remembered too.
    callBudget: {
      create: { remembered: 1, cold: 1 },
      rotate: { remembered: 1, cold: 2 },
      update: { remembered: 2, cold: 2 },
      registration: { remembered: 1, cold: 2 },
      delete: { remembered: 1, cold: 2 },
    },
    backdoor: {
      canGetToken: async (clientId: string, secret: string) => clients.get(clientId)?.secret === secret,
      clientExists: async (clientId: string) => clients.has(clientId),
      redirectUris: async (clientId: string) => clients.get(clientId)?.redirectUris ?? [],
      createForeignClient: async () => {
        const clientId = randomUUID();
        clients.set(clientId, {
          name: 'foreign',
          secret: 'x',
          redirectUris: ['https://foreign.example.com/cb'],
          managed: false,
          audiences: [],
        });
        return clientId;
      },
      countClients: async () => clients.size,
      audiences: async (clientId: string) => clients.get(clientId)?.audiences ?? [],
      adminSetting: {
        set: async (clientId: string, value: string) => void (stored(clientId).note = value),
        get: async (clientId: string) => clients.get(clientId)?.note,
      },
    },
  };
}

const inProcess = 'the in-memory IdP is called in-process: it has no admin API, no admin token and no wire';

runConformanceSuite({
  name: 'in-memory reference adapter',
  setup: async () => ({ ...createMemoryIdp(), unknownScope: 'unknown-scope', logger: createCapturingLogger() }),
  skip: {
    'faults/konnect-load': `${inProcess} to fault`,
    'idp-plumbing/one-admin-token': inProcess,
    'idp-plumbing/encoded-path-segments': inProcess,
    'idp-plumbing/rate-limited-create': inProcess,
    'idp-plumbing/rate-limited-lookup': inProcess,
    'idp-plumbing/refused-credentials-create': inProcess,
    'idp-plumbing/refused-credentials-delete': inProcess,
    'idp-plumbing/route-templates': `${inProcess}: no IdP call to name a route for`,
    'contract/no-idp-detail': `${inProcess} to fail or leak from`,
    'rotation/answer-lost': `${inProcess} to fault`,
    'rotation/processed-late': `${inProcess} to fault`,
    'rotation/crash-in-flight': `${inProcess} to fault`,
  },
});
