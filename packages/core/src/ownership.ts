import type { IdpPrimitives, OperationContext } from './contract.js';
import { BridgeError, isBridgeError } from './errors.js';
import { RememberedClients } from './remembered-clients.js';

/**
 * # Ownership: is this client the bridge's?
 *
 * Rotate, update and delete look the client up first (`find`) and refuse one without the marker (`isOurs`) with
 * `client_not_managed`; the client read is handed to the primitive. Clients this process created or proved to be
 * its own are remembered (`rememberClients`, most recently used first): an operation on one of them skips the
 * read, unless its primitive is in `readsCurrent`. Only "ours" is remembered, never "not ours" or "gone", and a
 * client is forgotten when it is deleted or found missing.
 */
export interface Ownership<Client> {
  /**
   * The client for `operation`, proven ours: the remembered one, or read (and remembered) when none is or the
   * primitive reads the current one. Undefined when the IdP has no such client; throws client_not_managed.
   */
  ours(clientId: string, operation: Primitive, context: OperationContext): Promise<Client | undefined>;
  /** As `ours`, for operations on a client that must exist. */
  findOurs(clientId: string, operation: Primitive, context: OperationContext): Promise<Client>;
  /** An IdP failure on a client that has vanished meanwhile is reported as what it is: not found. */
  orNotFound<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T>;
  /** Remembers a client the bridge just created. */
  remember(clientId: string, client: Client): void;
  /** Forgets a client that was deleted or found missing. */
  forget(clientId: string): void;
}

export type Primitive = NonNullable<IdpPrimitives<unknown>['readsCurrent']>[number];

export function createOwnership<Client, Scope>(idp: IdpPrimitives<Client, Scope>, rememberClients: number): Ownership<Client> {
  const owned = new RememberedClients<Client>(rememberClients);
  const readsCurrent = new Set(idp.readsCurrent ?? []);
  const notFound = (clientId: string) => new BridgeError('not_found', `${idp.idpName} has no client ${clientId}.`);

  const notManaged = (clientId: string) =>
    new BridgeError(
      'client_not_managed',
      `Client ${clientId} was not created by the bridge (it has no ${idp.marker}); the bridge leaves it alone.`,
    );

  async function ours(clientId: string, operation: Primitive, context: OperationContext): Promise<Client | undefined> {
    const remembered = readsCurrent.has(operation) ? undefined : owned.get(clientId);
    if (remembered !== undefined) return remembered;
    const client = await idp.find(clientId, context);
    if (client === undefined) {
      owned.forget(clientId);
      return undefined;
    }
    if (!idp.isOurs(client)) throw notManaged(clientId);
    owned.remember(clientId, client);
    return client;
  }

  async function findOurs(clientId: string, operation: Primitive, context: OperationContext): Promise<Client> {
    const client = await ours(clientId, operation, context);
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
    orNotFound,
    remember: (clientId, client) => owned.remember(clientId, client),
    forget: (clientId) => owned.forget(clientId),
  };
}
