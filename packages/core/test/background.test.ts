import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackgroundWork } from '../src/background.js';
import { silentLogger } from '../src/logger.js';

const warnings: Error[] = [];
const onWarning = (warning: Error) => void warnings.push(warning);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

describe('createBackgroundWork', () => {
  it('runs more than ten jobs and timers at once without a MaxListenersExceededWarning, and close() ends every one', async () => {
    process.on('warning', onWarning);
    const background = createBackgroundWork({ logger: silentLogger, timeoutMs: 60_000, baseDelayMs: 10, maxDelayMs: 10 });
    const jobs = Array.from({ length: 25 }, (_, i) =>
      background.run(
        `job-${i}`,
        ({ signal }) => new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      ),
    );
    let scheduledFired = 0;
    for (let i = 0; i < 25; i++) background.schedule(Date.now() + 60_000, () => scheduledFired++, { awaited: true });
    // process.emitWarning emits on the next tick.
    await nextTurn();
    await nextTurn();
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map((warning) => warning.message)).toEqual([]);

    await background.close();
    const outcomes = await Promise.allSettled(jobs);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array.from({ length: 25 }, () => 'rejected'));
    expect(outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason.message)).toEqual(
      Array.from({ length: 25 }, () => 'the adapter is closing'),
    );
    await background.drained();
    expect(scheduledFired).toBe(0);
  });
});
