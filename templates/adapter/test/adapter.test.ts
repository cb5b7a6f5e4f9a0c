import { readAdapterOptions } from '@dcr-bridge/core';
import { describe, expect, it } from 'vitest';
import { dcrBridgeAdapter } from '../src/index.js';

// Replace with the conformance suite against test/fake-__ID__.ts once the adapter works (CONTRIBUTING.md).
describe('__ID__ settings', () => {
  it('reports a missing URL', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, {})).toThrow('__ENV___URL is required.');
  });
});
