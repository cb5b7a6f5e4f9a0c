/**
 * Bounded retries with exponential backoff and full jitter, honouring the IdP's Retry-After. Used by the
 * IdP HTTP client for idempotent operations; an adapter on a vendor SDK (Cognito) can use it directly.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs × 2^n)]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the rate limit goes back to the caller at once. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 2,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 3_000,
};

export type RetryDecision = { retry: false } | { retry: true; retryAfterMs?: number };

export interface RetryOptions<T> {
  policy?: Partial<RetryPolicy>;
  /** Looks at a result or a thrown error and says whether another attempt may help. */
  classify: (outcome: { result: T } | { error: unknown }) => RetryDecision;
  signal?: AbortSignal;
  random?: () => number;
}

export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * Parses a Retry-After header (delta-seconds or an HTTP date) into seconds from now; undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `operation` until it succeeds, `classify` says stop, or the retries are spent. The last outcome is
 * returned (or thrown) as it is, so the caller maps it to an error exactly as for a single attempt.
 */
export async function withRetries<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions<T>): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  for (let attempt = 0; ; attempt++) {
    let outcome: { result: T } | { error: unknown };
    try {
      outcome = { result: await operation(attempt) };
    } catch (error) {
      outcome = { error };
    }
    const decision = attempt < policy.retries ? options.classify(outcome) : { retry: false as const };
    const wait = decision.retry ? delayFor(decision.retryAfterMs, attempt, policy, options.random) : undefined;
    if (wait === undefined || options.signal?.aborted) {
      if ('error' in outcome) throw outcome.error;
      return outcome.result;
    }
    await sleep(wait, options.signal);
  }
}

function delayFor(retryAfterMs: number | undefined, attempt: number, policy: RetryPolicy, random?: () => number): number | undefined {
  if (retryAfterMs === undefined) return backoffDelayMs(attempt, policy, random);
  return retryAfterMs <= policy.maxRetryAfterMs ? retryAfterMs : undefined;
}
