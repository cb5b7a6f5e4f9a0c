import type { ClientEvent, DcrAdapter } from './contract.js';
import { BridgeError } from './errors.js';

/**
 * What the adapter does with a Konnect operation, decided here once from its capabilities: `call` it, answer
 * `unsupported_operation` (what Konnect's DCR provider must be told to stop sending), or `acknowledge` it with
 * nothing changed (an audience event for an adapter without audience registrations, or without an audience).
 */
export function operationSupport(
  adapter: DcrAdapter,
  operation: { type: 'rotate_secret' } | ClientEvent,
): { action: 'call' } | { action: 'acknowledge' } | { action: 'refuse'; error: BridgeError } {
  switch (operation.type) {
    case 'rotate_secret':
      return adapter.capabilities.rotateSecret && adapter.rotateSecret
        ? { action: 'call' }
        : { action: 'refuse', error: unsupported(adapter.id, 'rotate_secret') };
    case 'update_application':
      return adapter.capabilities.updateRedirectUris && adapter.applyEvent
        ? { action: 'call' }
        : { action: 'refuse', error: unsupported(adapter.id, 'update_application') };
    default:
      return adapter.capabilities.audienceRegistrations && adapter.applyEvent && operation.audience !== undefined
        ? { action: 'call' }
        : { action: 'acknowledge' };
  }
}

/** The `unsupported_operation` answer, with what to turn off in Konnect. */
export function unsupported(adapterId: string, operation: 'rotate_secret' | 'update_application'): BridgeError {
  return operation === 'rotate_secret'
    ? new BridgeError(
        'unsupported_operation',
        `The ${adapterId} adapter cannot rotate client secrets. Turn on "disable refresh secret" for this DCR provider in Konnect.`,
      )
    : new BridgeError(
        'unsupported_operation',
        `The ${adapterId} adapter cannot change redirect URIs. Turn on "disable event hooks" for this DCR provider in Konnect, or update the client at the IdP by hand.`,
      );
}

/**
 * Checks at boot that an adapter keeps the contract: every announced capability has its method, so a
 * missing method fails when the server starts, not at the first Konnect call. Throws listing every problem.
 */
export function assertAdapter(adapter: DcrAdapter): void {
  const problems: string[] = [];
  const id = typeof adapter?.id === 'string' && adapter.id !== '' ? adapter.id : undefined;
  if (!id) problems.push('it has no `id`');
  if (typeof adapter?.capabilities !== 'object' || adapter.capabilities === null) problems.push('it has no `capabilities` object');
  for (const method of ['createClient', 'deleteClient', 'checkReady'] as const) {
    if (typeof adapter?.[method] !== 'function') problems.push(`it has no ${method}()`);
  }
  const capabilities = adapter?.capabilities ?? {};
  if (capabilities.rotateSecret && typeof adapter.rotateSecret !== 'function') {
    problems.push('it announces rotateSecret but has no rotateSecret()');
  }
  if ((capabilities.updateRedirectUris || capabilities.audienceRegistrations) && typeof adapter.applyEvent !== 'function') {
    problems.push('it announces event capabilities but has no applyEvent()');
  }
  if (problems.length > 0) {
    throw new Error(`The adapter ${id ?? '(unnamed)'} does not keep the dcr-bridge contract: ${problems.join('; ')}.`);
  }
}
