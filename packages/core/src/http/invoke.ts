import type { DcrAdapter, OperationContext } from '../contract.js';
import { BridgeError, toBridgeError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Every adapter call goes through here: a time budget (the signal the adapter passes to its IdP calls),
 * timing, a debug line with secrets redacted by the logger, and anything thrown turned into one
 * BridgeError that names the adapter and the operation. If the adapter overruns its budget the bridge
 * still answers (504) on time.
 */
export interface InvokeOptions {
  adapter: DcrAdapter;
  operation: string;
  logger: Logger;
  requestId: string;
  timeoutMs: number;
  /** Aborts when Konnect hangs up. */
  signal?: AbortSignal;
}

export async function invokeAdapter<T>(options: InvokeOptions, call: (context: OperationContext) => Promise<T>): Promise<T> {
  const { adapter, operation } = options;
  const logger = options.logger.child({ adapter: adapter.id, operation });
  const started = performance.now();
  // One controller with a clearable timer: AbortSignal.timeout()/any() would keep a timer and a signal
  // alive for the whole budget after every request, which costs memory and CPU under load.
  const controller = new AbortController();
  let overran = false;
  let rejectOverrun: (error: BridgeError) => void = () => undefined;
  const overrun = new Promise<never>((_, reject) => (rejectOverrun = reject));
  overrun.catch(() => undefined);
  const timer = setTimeout(() => {
    overran = true;
    controller.abort(overrunError(adapter.id, operation, options.timeoutMs));
    rejectOverrun(overrunError(adapter.id, operation, options.timeoutMs));
  }, options.timeoutMs);
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const result = await Promise.race([call({ signal: controller.signal, logger, requestId: options.requestId }), overrun]);
    logger.debug('adapter call succeeded', { ms: elapsed(started) });
    return result;
  } catch (error) {
    const bridgeError = overran && !(error instanceof BridgeError) ? overrunError(adapter.id, operation, options.timeoutMs) : toBridgeError(error, adapter.id, operation);
    const fields = { ms: elapsed(started), code: bridgeError.code, description: bridgeError.message, cause: bridgeError.cause ?? (error === bridgeError ? undefined : error) };
    if (bridgeError.status >= 500) logger.error('adapter call failed', fields);
    else logger.info('adapter call refused', fields);
    throw bridgeError;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function overrunError(adapterId: string, operation: string, timeoutMs: number): BridgeError {
  return new BridgeError('idp_timeout', `The ${adapterId} adapter did not finish ${operation} within ${timeoutMs} ms.`);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
