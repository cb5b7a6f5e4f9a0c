import type { DcrAdapter } from './contract.js';

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
