import { afterEach, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import type { StoreDriver } from '@dcr-bridge/core';

export interface StoreDriverContractOptions {
  /**
   * Two drivers on one fresh, empty store, as two processes would open it (two pools, two connections).
   * Given for drivers with `exclusive`: the suite then checks that the lock holds across them.
   */
  openTwo?: () => Promise<[StoreDriver, StoreDriver]>;
  /** How many `exclusive` works run at once in the test that they may use the driver while they hold. Default 32. */
  concurrentHolders?: number;
}

/**
 * Everything a StoreDriver promises (see StoreDriver in @dcr-bridge/core), as vitest tests. `open` gives a
 * driver on a fresh, empty store at every call; the suite closes it. Values are what core stores: JWE
 * compact and JSON text, so any character but NUL.
 */
export function runStoreDriverContract(name: string, open: () => Promise<StoreDriver>, options: StoreDriverContractOptions = {}): void {
  describe(`${name}: store driver contract`, () => {
    let driver: StoreDriver;
    beforeEach(async () => {
      driver = await open();
    });
    afterEach(() => driver.close());

    it('reads nothing for a key never written', async () => {
      expect(await driver.get('client:never')).toBeUndefined();
    });

    it('reads back what it wrote, and an overwrite replaces the value', async () => {
      await driver.set('client:a', 'first');
      expect(await driver.get('client:a')).toBe('first');
      await driver.set('client:a', 'second');
      expect(await driver.get('client:a')).toBe('second');
      expect(await driver.list('client:')).toEqual([['client:a', 'second']]);
    });

    it('deletes a key, and deleting a missing key succeeds', async () => {
      await driver.set('client:a', 'value');
      await driver.set('client:b', 'other');
      await driver.delete('client:a');
      expect(await driver.get('client:a')).toBeUndefined();
      expect(await driver.get('client:b')).toBe('other');
      await expect(driver.delete('client:never')).resolves.toBeUndefined();
    });

    it('keeps values with any character, the empty string, and large values, unchanged', async () => {
      const values = {
        special: `'quoted' "double" \\back\\slash; DROP TABLE records; -- %_ *? \n\r\t é ß 中文 😀 \u2028 \u{10FFFF}`,
        json: JSON.stringify({ nonce: 'n-1', text: 'ü "x" \u0000 inside JSON' }),
        empty: '',
        large: 'é😀x{}'.repeat(200_000),
      };
      for (const [key, value] of Object.entries(values)) await driver.set(`value:${key}`, value);
      for (const [key, value] of Object.entries(values)) expect(await driver.get(`value:${key}`)).toBe(value);
    });

    it('keeps keys with any character, LIKE and regex metacharacters included', async () => {
      const keys = ['a/b/c', '100%', 'under_score', 'back\\slash', "quo'te", 'star*', 'dot.', 'é中😀', 'space key'];
      for (const key of keys) await driver.set(key, `value of ${key}`);
      for (const key of keys) expect(await driver.get(key)).toBe(`value of ${key}`);
      expect(await driver.get('100')).toBeUndefined();
      expect(await driver.get('underXscore')).toBeUndefined();
    });

    it('lists the keys under a prefix, and only those, in code point order (UTF-8 byte order)', async () => {
      const under = ['k/ ', 'k/%', 'k/B', 'k/_', 'k/a', 'k/a%', 'k/a/1', 'k/b', 'k/~', 'k/é', 'k/中', 'k/😀'];
      const outside = ['k', 'k0', 'K/a', 'j/z', 'kk/a', 'l/a'];
      for (const key of [...under].reverse()) await driver.set(key, `v ${key}`);
      for (const key of outside) await driver.set(key, `v ${key}`);
      expect(await driver.list('k/')).toEqual(under.map((key) => [key, `v ${key}`]));
      expect(await driver.list('nothing/')).toEqual([]);
      expect((await driver.list('')).map(([key]) => key)).toEqual([...under, ...outside].sort(byCodePoint));
    });

    it('treats a prefix literally: % _ and \\ match themselves only', async () => {
      for (const key of ['k/a', 'k/a%', 'k/a%b', 'k/ab', 'k/_', 'k/x', 'esc\\a', 'esc\\\\b', 'escXa', '100%/x', '1000/x'])
        await driver.set(key, key);
      expect(await keysUnder('k/a%')).toEqual(['k/a%', 'k/a%b']);
      expect(await keysUnder('k/_')).toEqual(['k/_']);
      expect(await keysUnder('esc\\')).toEqual(['esc\\\\b', 'esc\\a']);
      expect(await keysUnder('100%/')).toEqual(['100%/x']);
    });

    it('serves many interleaved writes and reads', async () => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => driver.set(`many/${String(i).padStart(3, '0')}`, `v${i}`)));
      const values = await Promise.all(Array.from({ length: 100 }, (_, i) => driver.get(`many/${String(i).padStart(3, '0')}`)));
      expect(values).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`));
      expect((await driver.list('many/')).length).toBe(100);
    });

    it('passes its readiness check when it can serve', async () => {
      await expect(driver.check()).resolves.toBeUndefined();
    });

    async function keysUnder(prefix: string): Promise<string[]> {
      return (await driver.list(prefix)).map(([key]) => key);
    }

    describe('exclusive', () => {
      const holders = options.concurrentHolders ?? 32;

      it('returns what the work returns, and throws what it throws', async (context) => {
        const exclusive = exclusiveOf(driver, context);
        expect(await exclusive('client:a', async () => 'result')).toBe('result');
        const failure = new Error('work failed');
        await expect(exclusive('client:a', () => Promise.reject(failure))).rejects.toBe(failure);
      });

      it('runs two works on the same name one after the other', async (context) => {
        const exclusive = exclusiveOf(driver, context);
        await expectSerialized(exclusive, exclusive);
      });

      it('runs works on different names at the same time', async (context) => {
        const exclusive = exclusiveOf(driver, context);
        await expectConcurrent(exclusive, exclusive);
      });

      it('releases the lock when the work throws', async (context) => {
        const exclusive = exclusiveOf(driver, context);
        await expect(exclusive('client:a', () => Promise.reject(new Error('work failed')))).rejects.toThrow('work failed');
        expect(
          await within(
            exclusive('client:a', async () => 'again'),
            'the lock stayed held after a throwing work',
          ),
        ).toBe('again');
      });

      it(`lets ${holders} holders at once use the driver inside their work`, async (context) => {
        const exclusive = exclusiveOf(driver, context);
        const results = await within(
          Promise.all(
            Array.from({ length: holders }, (_, i) =>
              exclusive(`client:${i}`, async () => {
                await driver.set(`held/${i}`, `v${i}`);
                return driver.get(`held/${i}`);
              }),
            ),
          ),
          'holders whose work uses the driver did not finish: does exclusive take connections from the pool that get/set use?',
        );
        expect(results).toEqual(Array.from({ length: holders }, (_, i) => `v${i}`));
      });

      describe('across two drivers on one store (two processes)', () => {
        let pair: [StoreDriver, StoreDriver] | undefined;
        afterEach(async () => {
          if (pair) await Promise.all(pair.map((each) => each.close()));
          pair = undefined;
        });

        async function openPair(context: TestContext): Promise<[Exclusive, Exclusive, StoreDriver, StoreDriver]> {
          if (!options.openTwo) context.skip('the driver is used by one process only (no openTwo option): nothing to share a lock with');
          pair = await options.openTwo();
          return [exclusiveOf(pair[0], context), exclusiveOf(pair[1], context), pair[0], pair[1]];
        }

        it('sees the same records', async (context) => {
          const [, , first, second] = await openPair(context);
          await first.set('client:shared', 'from the first');
          expect(await second.get('client:shared')).toBe('from the first');
          await second.delete('client:shared');
          expect(await first.list('client:')).toEqual([]);
        });

        it('runs two works on the same name one after the other, one in each driver', async (context) => {
          const [first, second] = await openPair(context);
          await expectSerialized(first, second);
        });

        it('runs works on different names at the same time, one in each driver', async (context) => {
          const [first, second] = await openPair(context);
          await expectConcurrent(first, second);
        });

        it("releases one driver's lock for the other when the work throws", async (context) => {
          const [first, second] = await openPair(context);
          await expect(first('client:a', () => Promise.reject(new Error('work failed')))).rejects.toThrow('work failed');
          expect(
            await within(
              second('client:a', async () => 'taken'),
              'the lock stayed held after a throwing work',
            ),
          ).toBe('taken');
        });
      });
    });
  });
}

type Exclusive = <T>(name: string, work: () => Promise<T>) => Promise<T>;

function exclusiveOf(driver: StoreDriver, context: TestContext): Exclusive {
  if (!driver.exclusive) context.skip('the driver has no exclusive (it is used by one process only)');
  return driver.exclusive.bind(driver);
}

/** How long a work that should wait is given to run anyway (a broken lock shows itself well within it). */
const SETTLE_MS = 300;
/** How long a work that should run is given before the test says what is wrong (instead of timing out). */
const BOUND_MS = 15_000;

/** A holds `client:a` until released; B on the same name must not start before A has ended. */
async function expectSerialized(first: Exclusive, second: Exclusive): Promise<void> {
  const events: string[] = [];
  const gate = deferred();
  const firstStarted = deferred();
  const a = first('client:a', async () => {
    events.push('A start');
    firstStarted.resolve();
    await gate.promise;
    events.push('A end');
  });
  await within(firstStarted.promise, 'the first work never started');
  const b = second('client:a', async () => {
    events.push('B start');
  });
  await sleep(SETTLE_MS);
  expect(events).toEqual(['A start']);
  gate.resolve();
  await within(Promise.all([a, b]), 'the second work never ran after the first ended');
  expect(events).toEqual(['A start', 'A end', 'B start']);
}

/** A holds `client:a` until released; B on `client:b` must run to its end meanwhile. */
async function expectConcurrent(first: Exclusive, second: Exclusive): Promise<void> {
  const gate = deferred();
  const firstStarted = deferred();
  const a = first('client:a', async () => {
    firstStarted.resolve();
    await gate.promise;
  });
  await within(firstStarted.promise, 'the first work never started');
  expect(
    await within(
      second('client:b', async () => 'ran'),
      'a work on another name waited for the first',
    ),
  ).toBe('ran');
  gate.resolve();
  await a;
}

function within<T>(work: Promise<T>, problem: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${problem} (within ${BOUND_MS} ms)`)), BOUND_MS);
  });
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function byCodePoint(a: string, b: string): number {
  const left = [...a].map((char) => char.codePointAt(0) as number);
  const right = [...b].map((char) => char.codePointAt(0) as number);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return (left[i] as number) - (right[i] as number);
  }
  return left.length - right.length;
}
