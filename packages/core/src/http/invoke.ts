import type { DcrAdapter, OperationContext } from '../contract.js';
import { BridgeError, toBridgeError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Every adapter call goes through here: a deadline (Konnect's answer is due), a longer completion budget
 * for IdP work already under way, timing, a debug line with secrets redacted by the logger, and anything
 * thrown turned into one BridgeError that names the adapter and the operation. If the adapter overruns
 * the deadline the bridge still answers (504) on time; its IdP calls go on under the completion budget so
 * that what the IdP did is known (core's lifecycle undoes a create whose answer Konnect never got).
 */
export interface InvokeOptions {
  adapter: DcrAdapter;
  operation: string;
  logger: Logger;
  requestId: string;
  /** When Konnect's answer is due. */
  timeoutMs: number;
  /** How long IdP work already under way may go on after that. Default the larger of 30 000 ms and timeoutMs. */
  completionTimeoutMs?: number;
  /** Aborts when Konnect hangs up. */
  signal?: AbortSignal;
  /** Whether Konnect got the answer (see OperationContext.answered). Default: true once the call succeeded. */
  answered?: Promise<boolean>;
}

export async function invokeAdapter<T>(options: InvokeOptions, call: (context: OperationContext) => Promise<T>): Promise<T> {
  const { adapter, operation } = options;
  const logger = options.logger.child({ adapter: adapter.id, operation });
  const started = performance.now();
  // Clearable timers rather than AbortSignal.timeout()/any(), which would keep a timer and a signal alive
  // for the whole budget after every request: that costs memory and CPU under load.
  const deadline = new AbortController();
  const completion = new AbortController();
  let overran = false;
  let rejectOverrun: (error: BridgeError) => void = () => undefined;
  const overrun = new Promise<never>((_, reject) => (rejectOverrun = reject));
  overrun.catch(() => undefined);
  const deadlineTimer = setTimeout(() => {
    overran = true;
    deadline.abort(overrunError(adapter.id, operation, options.timeoutMs));
    rejectOverrun(overrunError(adapter.id, operation, options.timeoutMs));
  }, options.timeoutMs);
  const completionMs = Math.max(options.timeoutMs, options.completionTimeoutMs ?? 30_000);
  const completionTimer = setTimeout(() => completion.abort(overrunError(adapter.id, operation, completionMs)), completionMs);
  completionTimer.unref();
  const onCallerAbort = () => deadline.abort(options.signal?.reason);
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });

  let succeeded!: (value: boolean) => void;
  const answered = options.answered ?? new Promise<boolean>((resolve) => (succeeded = resolve));
  const work = call({ signal: completion.signal, deadline: deadline.signal, answered, logger, requestId: options.requestId });
  work.finally(() => clearTimeout(completionTimer)).catch(() => undefined);
  try {
    const result = await Promise.race([work, overrun]);
    logger.debug('adapter call succeeded', { ms: elapsed(started) });
    succeeded?.(true);
    return result;
  } catch (error) {
    succeeded?.(false);
    const bridgeError = overran && !(error instanceof BridgeError) ? overrunError(adapter.id, operation, options.timeoutMs) : toBridgeError(error, adapter.id, operation);
    const fields = { ms: elapsed(started), code: bridgeError.code, description: bridgeError.message, cause: bridgeError.cause ?? (error === bridgeError ? undefined : error) };
    if (bridgeError.status >= 500) logger.error('adapter call failed', fields);
    else logger.info('adapter call refused', fields);
    throw bridgeError;
  } finally {
    clearTimeout(deadlineTimer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function overrunError(adapterId: string, operation: string, timeoutMs: number): BridgeError {
  return new BridgeError('idp_timeout', `The ${adapterId} adapter did not finish ${operation} within ${timeoutMs} ms.`);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
