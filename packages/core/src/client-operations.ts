import type { OperationContext } from './contract.js';
import type { ClientLocks } from './client-locks.js';
import { BridgeError } from './errors.js';

/**
 * # One operation per client at a time
 *
 * Within the process, operations on the same client id queue behind each other, so a rotation and an update
 * never interleave their reads and writes. An operation whose Konnect deadline passed while it queued is not
 * started. Across processes: when the journal's driver is shared by several processes (it has `exclusive`, as
 * PostgreSQL does), each operation also holds the driver's lock on the client (see `ClientLocks`), so two
 * replicas never interleave either.
 */
export interface ClientOperations {
  /** Runs an operation on one client: queued behind the others on it, not started after Konnect's deadline. */
  onClient<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T>;
  /** As `onClient`, for a rotation: the client stays locked until Konnect's connection took the answer (`hold`). */
  onClientHolding<T>(clientId: string, context: OperationContext, work: () => Promise<{ result: T; hold: Promise<unknown> }>): Promise<T>;
}

export function createClientOperations(locks: ClientLocks): ClientOperations {
  function onClient<T>(clientId: string, context: OperationContext, work: () => Promise<T>): Promise<T> {
    return onClientHolding(clientId, context, async () => ({ result: await work(), hold: Promise.resolve() }));
  }

  function onClientHolding<T>(
    clientId: string,
    context: OperationContext,
    work: () => Promise<{ result: T; hold: Promise<unknown> }>,
  ): Promise<T> {
    return locks.runHolding(clientId, async () => {
      if (context.deadline.aborted) {
        throw new BridgeError(
          'idp_timeout',
          `Another operation on client ${clientId} took the whole time budget; nothing was changed. Retry.`,
        );
      }
      return work();
    });
  }

  return { onClient, onClientHolding };
}
