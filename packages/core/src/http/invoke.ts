import type { Context } from '@opentelemetry/api';
import type { DcrAdapter, OperationContext } from '../contract.js';
import { BridgeError, toBridgeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { inSpan } from '../tracing.js';
import { inAdapterScope } from '../user-agent.js';
import { AnswerOutcome } from './answer-outcome.js';

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
  /**
   * The deadline's controller, for a caller that aborts it when Konnect hangs up (the HTTP layer does, from
   * the response's close event); invokeAdapter aborts it when the answer is due. Default a new one.
   */
  deadline?: AbortController;
  /**
   * Whether Konnect got the answer (see OperationContext.answered), settled by the caller (the HTTP layer, when
   * the response closed). Default: settled here, true once the call succeeded, false when it failed.
   */
  answer?: AnswerOutcome;
  /** The trace the operation's span joins (the request's incoming trace context). Default the active one. */
  traceContext?: Context;
}

/**
 * How long after its start an adapter call's IdP work may go on: the completion budget, never shorter than the
 * deadline (a call answered at the deadline was working until then). A shared journal's recovery must not touch
 * a create younger than this (`recover({ inFlightMs })`): another replica may still be creating or answering it.
 */
export function completionBudgetMs(timeoutMs: number, completionTimeoutMs = 30_000): number {
  return Math.max(timeoutMs, completionTimeoutMs);
}

export function invokeAdapter<T>(options: InvokeOptions, call: (context: OperationContext) => Promise<T>): Promise<T> {
  // In the adapter's scope, so that its IdP requests (and those it leaves in the background) name it in their User-Agent.
  return inAdapterScope(options.adapter.id, () =>
    inSpan(
      `dcr ${options.operation}`,
      'operation',
      { 'dcr.operation': options.operation, 'dcr.adapter': options.adapter.id, 'dcr.request_id': options.requestId },
      () => invoke(options, call),
      options.traceContext,
    ),
  );
}

async function invoke<T>(options: InvokeOptions, call: (context: OperationContext) => Promise<T>): Promise<T> {
  const { adapter, operation } = options;
  const logger = options.logger.child({ adapter: adapter.id, operation });
  const started = performance.now();
  const deadline = options.deadline ?? new AbortController();
  const completion = new AbortController();
  const completionMs = completionBudgetMs(options.timeoutMs, options.completionTimeoutMs);
  let overran = false;
  let settled = false;
  let rejectOverrun: (error: BridgeError) => void = () => undefined;
  const overrun = new Promise<never>((_, reject) => (rejectOverrun = reject));
  overrun.catch(() => undefined);
  // One clearable timer at a time (not AbortSignal.timeout()/any(), which would keep a timer and a signal
  // alive for the whole budget after every request): first the deadline, then what is left of the
  // completion budget, only while the adapter's work is still under way.
  let timer = setTimeout(() => {
    overran = true;
    deadline.abort(overrunError(adapter.id, operation, options.timeoutMs));
    rejectOverrun(overrunError(adapter.id, operation, options.timeoutMs));
    if (settled) return;
    timer = setTimeout(() => completion.abort(overrunError(adapter.id, operation, completionMs)), completionMs - options.timeoutMs);
    timer.unref();
  }, options.timeoutMs);
  const stopTimer = () => {
    settled = true;
    clearTimeout(timer);
  };

  // Without a caller's answer: true once the call succeeded, also for a reader that asks afterwards.
  const answer = options.answer ?? new AnswerOutcome();
  const settle = (value: boolean) => {
    if (options.answer === undefined) answer.settle(value);
  };
  const context: OperationContext = {
    signal: completion.signal,
    deadline: deadline.signal,
    logger,
    requestId: options.requestId,
    get answered() {
      return answer.settled;
    },
  };
  const work = call(context);
  work.then(stopTimer, stopTimer);
  try {
    const result = await Promise.race([work, overrun]);
    logger.debug('adapter call succeeded', { ms: elapsed(started) });
    settle(true);
    return result;
  } catch (error) {
    settle(false);
    const bridgeError =
      overran && !(error instanceof BridgeError)
        ? overrunError(adapter.id, operation, options.timeoutMs)
        : toBridgeError(error, adapter.id, operation);
    const fields = {
      ms: elapsed(started),
      code: bridgeError.code,
      description: bridgeError.message,
      cause: bridgeError.cause ?? (error === bridgeError ? undefined : error),
    };
    if (bridgeError.status >= 500) logger.error('adapter call failed', fields);
    else logger.info('adapter call refused', fields);
    throw bridgeError;
  }
}

function overrunError(adapterId: string, operation: string, timeoutMs: number): BridgeError {
  return new BridgeError('idp_timeout', `The ${adapterId} adapter did not finish ${operation} within ${timeoutMs} ms.`);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
