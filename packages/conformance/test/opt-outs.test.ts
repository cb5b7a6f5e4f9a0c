import { describe, expect, it } from 'vitest';
import { runConformanceSuite, type ConformanceOptions } from '../src/index.js';

/** Options whose setup must never run: the opt-outs are refused while the suite is declared. */
const declaredOnly = (skip: Record<string, string>): ConformanceOptions => ({
  name: 'opt-out check',
  setup: () => Promise.reject(new Error('setup must not run')),
  skip: skip as ConformanceOptions['skip'],
});

describe('conformance opt-outs', () => {
  it('refuse a scenario id the suite does not know, naming it and the known ids', () => {
    expect(() => runConformanceSuite(declaredOnly({ 'lifecycle/rotat': 'a typo' }))).toThrow(
      /Unknown conformance scenario id\(s\) in skip: "lifecycle\/rotat"\. Known ids: lifecycle\/create, /,
    );
  });

  it('refuse an opt-out that states no reason', () => {
    expect(() => runConformanceSuite(declaredOnly({ 'lifecycle/rotate': '  ' }))).toThrow(
      'Conformance opt-outs must state a reason: lifecycle/rotate.',
    );
  });
});
