import { silentLogger, type OperationContext } from '@dcr-bridge/core';

/**
 * An `OperationContext` for calling an adapter directly in a test: budgets that never run out, a silent
 * logger, and Konnect's answer taken (`answered` true) unless the test says otherwise.
 */
export function operationContext(overrides: Partial<OperationContext> = {}): OperationContext {
  return {
    signal: new AbortController().signal,
    deadline: new AbortController().signal,
    answered: Promise.resolve(true),
    logger: silentLogger,
    requestId: 'test',
    ...overrides,
  };
}
