import type { ClientContext, IdpPrimitives, OperationContext } from './contract.js';
import { BridgeError, isBridgeError } from './errors.js';
import { RememberedClients } from './remembered-clients.js';

/**
 * # Ownership: is this client the bridge's?
 *
 * Rotate, update and delete look the client up first (`find`) and refuse one without the marker (`isOurs`) with
 * `client_not_managed`; the client read is handed to the primitive. Clients this process created or proved to be
 * its own are remembered (`rememberClients`, most recently used first): an operation on one of them skips the
 * read. A primitive that needs the client as the IdP holds it now asks its context (`ClientContext.current`):
 * it gets the read of this operation, or one made then. Only "ours" is remembered, never "not ours" or "gone",
 * and a client is forgotten when it is deleted, found missing or found without the marker.
 */
export interface Ownership<Client> {
  /**
   * The client proven ours (the remembered one, or read and remembered) with the context its primitives get.
   * Undefined when the IdP has no such client; throws client_not_managed.
   */
  ours(clientId: string, context: OperationContext): Promise<OwnedClient<Client> | undefined>;
  /** As `ours`, for operations on a client that must exist. */
  findOurs(clientId: string, context: OperationContext): Promise<OwnedClient<Client>>;
  /**
   * Reads the client without the ownership check (recovery and rotation settling act on clients the journal
   * says are the bridge's), with the context for its primitives: `current()` is this read.
   */
  read(clientId: string, context: OperationContext): Promise<OwnedClient<Client> | undefined>;
  /** The context for primitives on a client not read in this operation: `current()` reads it when asked. */
  clientContext(clientId: string, context: OperationContext): ClientContext<Client>;
  /** An IdP failure on a client that has vanished meanwhile is reported as what it is: not found. */
  orNotFound<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T>;
  /** Remembers a client the bridge just created. */
  remember(clientId: string, client: Client): void;
  /** Forgets a client that was deleted or found missing. */
  forget(clientId: string): void;
}

/** A client (proven ours, or read for recovery) and the context for its primitives in this operation. */
export interface OwnedClient<Client> {
  /** As remembered or read: for what never changes (internal ids, the marker). */
  client: Client;
  context: ClientContext<Client>;
}

export function createOwnership<Client, Scope>(idp: IdpPrimitives<Client, Scope>, rememberClients: number): Ownership<Client> {
  const owned = new RememberedClients<Client>(rememberClients);
  const notFound = (clientId: string) => new BridgeError('not_found', `${idp.idpName} has no client ${clientId}.`);

  const notManaged = (clientId: string) =>
    new BridgeError(
      'client_not_managed',
      `Client ${clientId} was not created by the bridge (it has no ${idp.marker}); the bridge leaves it alone.`,
    );

  /** Reads the client: remembered when ours, forgotten when gone or no longer ours. */
  async function readOurs(clientId: string, context: OperationContext): Promise<Client | undefined> {
    const client = await idp.find(clientId, context);
    if (client === undefined) {
      owned.forget(clientId);
      return undefined;
    }
    if (!idp.isOurs(client)) {
      owned.forget(clientId);
      throw notManaged(clientId);
    }
    owned.remember(clientId, client);
    return client;
  }

  /**
   * The context for the primitives on one client in one operation. `find` gets it too (as the primitives do), so
   * an adapter may keep what a read carried for the primitives after it (by context, never in the client).
   * `current()` is the read `readWith` reports, else one read when first asked.
   */
  function contextFor(clientId: string, context: OperationContext) {
    let current: Promise<Client> | undefined;
    const clientContext: ClientContext<Client> = {
      signal: context.signal,
      deadline: context.deadline,
      logger: context.logger,
      requestId: context.requestId,
      // A getter, as the HTTP layer's: the answer's outcome is made only when someone asks for it.
      get answered() {
        return context.answered;
      },
      current: () =>
        (current ??= readOurs(clientId, clientContext).then((client) => {
          if (client === undefined) throw notFound(clientId);
          return client;
        })),
    };
    const readWith = async (find: (clientContext: ClientContext<Client>) => Promise<Client | undefined>) => {
      const client = await find(clientContext);
      if (client !== undefined) current = Promise.resolve(client);
      return client === undefined ? undefined : { client, context: clientContext };
    };
    return { clientContext, readWith };
  }

  async function ours(clientId: string, context: OperationContext): Promise<OwnedClient<Client> | undefined> {
    const { clientContext, readWith } = contextFor(clientId, context);
    const remembered = owned.get(clientId);
    if (remembered !== undefined) return { client: remembered, context: clientContext };
    return readWith((readContext) => readOurs(clientId, readContext));
  }

  async function findOurs(clientId: string, context: OperationContext): Promise<OwnedClient<Client>> {
    const client = await ours(clientId, context);
    if (client === undefined) throw notFound(clientId);
    return client;
  }

  async function orNotFound<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isBridgeError(error) && error.code === 'not_found') owned.forget(clientId);
      if (!isBridgeError(error) || error.status < 500) throw error;
      const stillThere = await idp.find(clientId, context).catch(() => true);
      if (stillThere !== undefined) throw error;
      owned.forget(clientId);
      throw notFound(clientId);
    }
  }

  return {
    ours,
    findOurs,
    read: (clientId, context) => contextFor(clientId, context).readWith((readContext) => idp.find(clientId, readContext)),
    clientContext: (clientId, context) => contextFor(clientId, context).clientContext,
    orNotFound,
    remember: (clientId, client) => owned.remember(clientId, client),
    forget: (clientId) => owned.forget(clientId),
  };
}
