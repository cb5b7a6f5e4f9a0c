import { describe, expect, it } from 'vitest';
import { compareCodePoints, prefixUpperBound } from '../src/index.js';

describe('prefixUpperBound', () => {
  it('is the prefix with its last code point raised by one', () => {
    expect(prefixUpperBound('client:')).toBe('client;');
    expect(prefixUpperBound('k/%')).toBe('k/&');
    expect(prefixUpperBound('k/中')).toBe('k/丮');
    expect(prefixUpperBound('k/😀')).toBe('k/😁');
  });

  it('skips the surrogate range and drops trailing U+10FFFF', () => {
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
    expect(prefixUpperBound('a\u{10FFFF}\u{10FFFF}')).toBe('b');
  });

  it('is undefined when every string is above the prefix', () => {
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('\u{10FFFF}')).toBeUndefined();
  });
});

describe('compareCodePoints', () => {
  it('orders by code point (UTF-8 bytes), where < on strings orders by UTF-16 unit', () => {
    expect(['k/\u{1F600}', 'k/\uFFFD', 'k/a'].sort(compareCodePoints)).toEqual(['k/a', 'k/\uFFFD', 'k/\u{1F600}']);
    expect('k/\u{1F600}' < 'k/\uFFFD').toBe(true);
  });
});
