/**
 * Clients proven to be the bridge's, most recently used last; the least recently used is dropped beyond
 * `limit`. Holds only "ours": an IdP never gives a deleted client's id to another client.
 */
export class RememberedClients<Client> {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly limit: number) {}

  get(clientId: string): Client | undefined {
    const client = this.clients.get(clientId);
    if (client !== undefined) {
      this.clients.delete(clientId);
      this.clients.set(clientId, client);
    }
    return client;
  }

  remember(clientId: string, client: Client): void {
    if (this.limit <= 0) return;
    this.clients.delete(clientId);
    this.clients.set(clientId, client);
    if (this.clients.size > this.limit) this.clients.delete(this.clients.keys().next().value as string);
  }

  forget(clientId: string): void {
    this.clients.delete(clientId);
  }
}
