import { randomBytes, randomUUID } from 'node:crypto';
import { BridgeError, type DcrAdapter } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '../src/index.js';

/**
 * The suite run against the smallest adapter that keeps the contract, over an in-memory "IdP". It proves
 * the scenarios and the HTTP layer together; real adapters run the same suite against their IdP.
 */
interface MemoryClient {
  secret: string;
  redirectUris: string[];
  managed: boolean;
  audiences: string[];
}

function createMemoryIdp() {
  const clients = new Map<string, MemoryClient>();
  const managed = (clientId: string) => {
    const client = clients.get(clientId);
    if (!client) throw new BridgeError('not_found', `No client ${clientId}.`);
    if (!client.managed) throw new BridgeError('client_not_managed', `Client ${clientId} was not created by the bridge.`);
    return client;
  };
  const adapter: DcrAdapter = {
    id: 'memory',
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: true },
    async createClient(registration) {
      if (registration.scopes.includes('unknown-scope')) throw new BridgeError('invalid_scope', 'Scope "unknown-scope" does not exist.');
      const clientId = randomUUID();
      const secret = randomBytes(16).toString('hex');
      clients.set(clientId, { secret, redirectUris: registration.redirectUris, managed: true, audiences: [] });
      return { clientId, clientSecret: secret };
    },
    async deleteClient(clientId) {
      if (!clients.has(clientId)) return;
      managed(clientId);
      clients.delete(clientId);
    },
    async rotateSecret(clientId) {
      const client = managed(clientId);
      client.secret = randomBytes(16).toString('hex');
      return { clientId, clientSecret: client.secret };
    },
    async applyEvent(clientId, event) {
      const client = managed(clientId);
      if (event.type === 'update_application') client.redirectUris = event.redirectUris;
      else if (event.type === 'add_registration' && event.audience) client.audiences.push(event.audience);
      else if (event.type === 'remove_registration') client.audiences = client.audiences.filter((a) => a !== event.audience);
    },
    async checkReady() {
      return { ready: true };
    },
  };
  return {
    adapter,
    backdoor: {
      canGetToken: async (clientId: string, secret: string) => clients.get(clientId)?.secret === secret,
      clientExists: async (clientId: string) => clients.has(clientId),
      redirectUris: async (clientId: string) => clients.get(clientId)?.redirectUris ?? [],
      createForeignClient: async () => {
        const clientId = randomUUID();
        clients.set(clientId, { secret: 'x', redirectUris: ['https://foreign.example.com/cb'], managed: false, audiences: [] });
        return clientId;
      },
      countClients: async () => clients.size,
      audiences: async (clientId: string) => clients.get(clientId)?.audiences ?? [],
    },
  };
}

runConformanceSuite({
  name: 'in-memory reference adapter',
  setup: async () => ({ ...createMemoryIdp(), unknownScope: 'unknown-scope', logger: createCapturingLogger() }),
});
