import { describe, expect, it } from 'vitest';
import {
  BridgeError,
  silentLogger,
  type OperationContext,
  generateSecret,
  hasOwnershipMarkerLine,
  ownershipMarkerLine,
  uniqueName,
  type DcrAdapter,
} from '../src/index.js';
import { parseRetryAfter, withRetries } from '../src/idp.js';
import { apiKeyProblem, createJsonLogger, redact } from '../src/http.js';
import { assertAdapter } from '../src/capabilities.js';
import { toBridgeError } from '../src/errors.js';
import { createApiKeyVerifier } from '../src/http/api-key.js';
import { AnswerOutcome } from '../src/http/answer-outcome.js';
import { completionBudgetMs, invokeAdapter } from '../src/http/invoke.js';
import { redactUrl } from '../src/redact.js';
import { backoffDelayMs, DEFAULT_RETRY_POLICY } from '../src/retry.js';
import { fakeAdapter } from './fixtures.js';

describe('redact', () => {
  it('hides secret-named fields at any depth and credentials in text', () => {
    const input = {
      client_id: 'abc',
      client_secret: 's1',
      nested: { registration_access_token: 't1', headers: { Authorization: 'Bearer x', 'X-API-KEY': 'k' }, list: [{ password: 'p' }] },
      message: 'sent Bearer eyJhbGciOi.abc and SSWS 00abc',
      privateKey: { d: 'x' },
    };
    expect(redact(input)).toEqual({
      client_id: 'abc',
      client_secret: '[REDACTED]',
      nested: {
        registration_access_token: '[REDACTED]',
        headers: { Authorization: '[REDACTED]', 'X-API-KEY': '[REDACTED]' },
        list: [{ password: '[REDACTED]' }],
      },
      message: 'sent Bearer [REDACTED] and SSWS [REDACTED]',
      privateKey: '[REDACTED]',
    });
  });

  it('redacts errors, their causes and URLs', () => {
    const error = new Error('failed with Basic dXNlcjpwYXNz', { cause: { client_secret: 'x' } });
    expect(redact(error)).toEqual({ name: 'Error', message: 'failed with Basic [REDACTED]', cause: { client_secret: '[REDACTED]' } });
    expect(redactUrl('https://user:pw@idp.example.com/reg?client_secret=a&page=2')).toBe(
      'https://idp.example.com/reg?client_secret=%5BREDACTED%5D&page=2',
    );
  });

  it('is applied by the JSON logger, with levels and bindings', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'info', write: (l) => void lines.push(l), now: () => new Date(0) }).child({ adapter: 'x' });
    logger.debug('hidden');
    logger.info('shown', { client_secret: 'nope', count: 2 });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'shown', adapter: 'x', client_secret: '[REDACTED]', count: 2 },
    ]);
    // So that callers can skip building a line nobody will read.
    expect([logger.isLevelEnabled?.('debug'), logger.isLevelEnabled?.('info'), logger.isLevelEnabled?.('error')]).toEqual([
      false,
      true,
      true,
    ]);
  });
});

describe('retry', () => {
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('uses full jitter under an exponential ceiling', () => {
    expect(backoffDelayMs(0, DEFAULT_RETRY_POLICY, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(400);
    expect(backoffDelayMs(10, DEFAULT_RETRY_POLICY, () => 0.999)).toBe(1998);
    expect(backoffDelayMs(2, DEFAULT_RETRY_POLICY, () => 0)).toBe(0);
  });

  it('stops after the retries and returns the last outcome', async () => {
    let attempts = 0;
    const result = await withRetries(async () => ++attempts, { policy: { retries: 3, baseDelayMs: 1 }, classify: () => ({ retry: true }) });
    expect(result).toBe(4);
    await expect(
      withRetries(async () => Promise.reject(new Error('x')), {
        policy: { retries: 1, baseDelayMs: 1 },
        classify: () => ({ retry: false }),
      }),
    ).rejects.toThrow('x');
  });
});

describe('api keys', () => {
  it('accepts any configured key and nothing else', () => {
    const verify = createApiKeyVerifier(['first_key_123456', 'second_key_12345']);
    expect(verify('first_key_123456')).toBe(true);
    expect(verify('second_key_12345')).toBe(true);
    expect(verify('first_key_12345')).toBe(false);
    expect(verify(undefined)).toBe(false);
    expect(verify('')).toBe(false);
  });

  it('names keys Konnect could not hold', () => {
    expect(apiKeyProblem('good_key_123')).toBeUndefined();
    expect(apiKeyProblem('short')).toMatch(/12–256/);
    expect(apiKeyProblem('has-dash-1234')).toMatch(/12–256/);
  });
});

describe('uniqueName and generateSecret', () => {
  it('keeps the name readable, within limits, and unique', () => {
    const a = uniqueName('My Café App!!', { prefix: 'konnect-', maxLength: 30 });
    const b = uniqueName('My Café App!!', { prefix: 'konnect-', maxLength: 30 });
    expect(a).toMatch(/^konnect-my-cafe-app-[a-z0-9]{8}$/);
    expect(a).not.toBe(b);
    expect(uniqueName('x'.repeat(200), { maxLength: 20 })).toHaveLength(20);
    expect(uniqueName('!!!', { maxLength: 20 })).toMatch(/^[a-z0-9]{8}$/);
  });

  it('generates secrets of at least 256 bits', () => {
    expect(Buffer.from(generateSecret(), 'base64url')).toHaveLength(32);
    expect(generateSecret()).not.toBe(generateSecret());
    expect(() => generateSecret(16)).toThrow();
  });
});

describe('ownership marker line', () => {
  it('round-trips Konnect ids and is found in a longer description', () => {
    const line = ownershipMarkerLine({ portalId: 'p', organizationId: 'o', developerId: 'd', authStrategyId: 'a', dcrProviderId: 'x' });
    expect(line).toBe(
      'dcr-bridge: {"managed":true,"portalId":"p","organizationId":"o","developerId":"d","authStrategyId":"a","dcrProviderId":"x"}',
    );
    expect(hasOwnershipMarkerLine(`An app for orders\n${line}`)).toBe(true);
    expect(hasOwnershipMarkerLine('dcr-bridge: {"managed":false}')).toBe(false);
    expect(hasOwnershipMarkerLine('dcr-bridge: {broken')).toBe(false);
    expect(hasOwnershipMarkerLine(undefined)).toBe(false);
  });
});

describe('contract checks', () => {
  const adapter: DcrAdapter = {
    id: 'x',
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: false },
    createClient: async () => ({ clientId: 'a', clientSecret: 'b' }),
    deleteClient: async () => undefined,
    checkReady: async () => ({ ready: true }),
  };

  it('fails at boot listing every missing method', () => {
    expect(() => assertAdapter(adapter)).toThrow(
      'The adapter x does not keep the dcr-bridge contract: it announces rotateSecret but has no rotateSecret(); it announces event capabilities but has no applyEvent().',
    );
    expect(() =>
      assertAdapter({ ...adapter, capabilities: { rotateSecret: false, updateRedirectUris: false, audienceRegistrations: false } }),
    ).not.toThrow();
  });

  it('wraps unknown throws without their message', () => {
    const wrapped = toBridgeError(new Error('secret detail'), 'okta', 'rotateSecret');
    expect(wrapped.code).toBe('adapter_failure');
    expect(wrapped.message).not.toContain('secret detail');
    const known = new BridgeError('not_found', 'x');
    expect(toBridgeError(known, 'okta', 'x')).toBe(known);
    expect(known.status).toBe(404);
  });
});

describe('invokeAdapter', () => {
  it('settles answered for the reader that asks only after the call ended', async () => {
    const contexts: OperationContext[] = [];
    const invoke = (work: () => Promise<string>) =>
      invokeAdapter(
        { adapter: fakeAdapter(), operation: 'x', logger: silentLogger, requestId: 'r', timeoutMs: 1_000 },
        (context) => (contexts.push(context), work()),
      );
    await invoke(async () => 'done');
    await expect(invoke(async () => Promise.reject(new Error('boom')))).rejects.toMatchObject({ code: 'adapter_failure' });
    expect([await contexts[0]?.answered, await contexts[1]?.answered]).toEqual([true, false]);
  });

  it("leaves a caller's answer to the caller: answered is what the caller settles, not the call's success", async () => {
    const answer = new AnswerOutcome();
    let context: OperationContext | undefined;
    await invokeAdapter(
      { adapter: fakeAdapter(), operation: 'x', logger: silentLogger, requestId: 'r', timeoutMs: 1_000, answer },
      async (given) => void (context = given),
    );
    answer.settle(false);
    answer.settle(true);
    expect(await context?.answered).toBe(false);
  });
});

describe('AnswerOutcome', () => {
  it('settles once, for readers that asked before and after', async () => {
    const answer = new AnswerOutcome();
    const early = answer.settled;
    answer.settle(true);
    answer.settle(false);
    expect([await early, await answer.settled]).toEqual([true, true]);
    const late = new AnswerOutcome();
    late.settle(false);
    expect(await late.settled).toBe(false);
  });
});

describe('completionBudgetMs', () => {
  it('is the completion budget, never shorter than the deadline: what recovery waits out before touching a create', () => {
    expect(completionBudgetMs(9_000, 30_000)).toBe(30_000);
    expect(completionBudgetMs(9_000, 1_500)).toBe(9_000);
    expect(completionBudgetMs(9_000)).toBe(30_000);
    expect(completionBudgetMs(45_000)).toBe(45_000);
  });
});
