import { setMaxListeners } from 'node:events';
import type { OperationContext } from './contract.js';
import { BridgeError } from './errors.js';
import type { Logger } from './logger.js';
import { sleep } from './retry.js';

/**
 * The lifecycle's work that no Konnect request waits for (cleanup, recovery, retiring secrets): each piece
 * under its own budget, all of it ended early by `close()`, and awaitable as a whole (`drained`). What close()
 * cuts short is left in the journal for the next sweep or start.
 */
export interface BackgroundWork {
  /** Aborts at close(). */
  readonly closed: AbortSignal;
  /** Runs `work` with a context whose signal aborts after the budget or at close(). */
  run<T>(operation: string, work: (context: OperationContext) => Promise<T>): Promise<T>;
  /** Runs `work` until it succeeds, backing off between attempts, until close(); false when close() came first. */
  retry(operation: string, log: Logger, work: (context: OperationContext) => Promise<void>): Promise<boolean>;
  /** Keeps `work` in the set `drained` and `close` wait for; a failure is logged. */
  track(work: Promise<unknown>): void;
  /**
   * Calls `fire` at `at` (epoch ms) unless close() comes first. `awaited`: `drained` waits for it (work due
   * within the completion budget, never an overlap of hours).
   */
  schedule(at: number, fire: () => void, options?: { awaited?: boolean }): void;
  drained(): Promise<void>;
  close(): Promise<void>;
}

export interface BackgroundOptions {
  logger: Logger;
  /** Budget of one attempt. */
  timeoutMs: number;
  /** Backoff between attempts of `retry`: doubles from `baseDelayMs` up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export function createBackgroundWork(options: BackgroundOptions): BackgroundWork {
  const { logger, timeoutMs } = options;
  const pending = new Set<Promise<unknown>>();
  const closing = new AbortController();
  const closed = closing.signal;
  // Every job under way and every timer waits on `closed` with a listener of its own, removed when it ends: as many
  // as the adapter has work in flight (50 and more under load), which is no leak. Without a limit, Node warns at 11.
  setMaxListeners(0, closed);

  const background: BackgroundWork = {
    closed,
    /**
     * A clearable timer, not AbortSignal.timeout()/any(): on Node 20 a composite signal whose timeout source
     * nothing else references can be garbage-collected before it fires, and the work then never ends.
     */
    async run(operation, work) {
      // Nothing starts once the adapter is closing: the journal keeps what is left for the next start.
      if (closed.aborted) throw closed.reason;
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new BridgeError('idp_timeout', `${operation} did not finish within ${timeoutMs} ms.`)),
        timeoutMs,
      );
      const onClose = () => controller.abort(closed.reason);
      closed.addEventListener('abort', onClose, { once: true });
      const { signal } = controller;
      try {
        return await work({
          signal,
          deadline: signal,
          answered: Promise.resolve(false),
          logger: logger.child({ operation }),
          requestId: `background-${operation}`,
        });
      } finally {
        clearTimeout(timer);
        closed.removeEventListener('abort', onClose);
      }
    },
    async retry(operation, log, work) {
      for (let attempt = 0; !closed.aborted; attempt++) {
        try {
          await background.run(operation, work);
          return true;
        } catch (error) {
          if (closed.aborted) break;
          const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
          log.warn(`${operation} failed; retrying`, { error, retryInMs: delay, attempts: attempt + 1 });
          await sleep(delay, closed).catch(() => undefined);
        }
      }
      return false;
    },
    track(work) {
      const settled = work.then(
        () => undefined,
        (error: unknown) => logger.error('background work failed', { error }),
      );
      pending.add(settled);
      void settled.finally(() => pending.delete(settled));
    },
    schedule(at, fire, scheduleOptions = {}) {
      if (closed.aborted) return;
      let fired = () => {};
      if (scheduleOptions.awaited) background.track(new Promise<void>((resolve) => (fired = resolve)));
      const stop = () => {
        clearTimeout(timer);
        fired();
      };
      const timer = setTimeout(
        () => {
          closed.removeEventListener('abort', stop);
          fire();
          fired();
        },
        Math.max(0, at - Date.now()),
      );
      timer.unref();
      closed.addEventListener('abort', stop, { once: true });
    },
    async drained() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async close() {
      closing.abort(new Error('the adapter is closing'));
      await Promise.all([...pending]);
    },
  };
  return background;
}
