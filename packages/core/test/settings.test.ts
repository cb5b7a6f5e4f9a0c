import { describe, expect, it } from 'vitest';
import {
  createSettingsReader,
  isAdapterModule,
  parseDuration,
  readAdapterOptions,
  readSharedAdapterSettings,
  type DcrAdapter,
  type SettingsReader,
} from '../src/index.js';

describe('settings', () => {
  it('collects every problem at once and never echoes secrets', () => {
    const settings = createSettingsReader({ URL: 'http://idp', N: 'x', B: 'maybe', MODE: 'z', SECRET: '' });
    settings.url('URL', { required: true });
    settings.integer('N', { default: 3, min: 1 });
    settings.boolean('B', { default: false });
    settings.oneOf('MODE', ['a', 'b'] as const);
    settings.secret('SECRET', { required: true });
    settings.string('MISSING', { required: true });
    expect(settings.problems).toEqual([
      'URL must be an https URL (its value is not repeated here, as a URL may hold a password).',
      'N must be a whole number ≥ 1 (got "x").',
      'B must be true or false (got "maybe").',
      'MODE must be one of a, b (got "z").',
      'SECRET is required.',
      'MISSING is required.',
    ]);
  });

  it('never repeats a rejected URL, which may carry a password', () => {
    const settings = createSettingsReader({
      PLAIN: 'http://admin:s3cret-pw@idp.example.com/',
      BROKEN: 'https://admin:s3cret-pw@idp.example.com:notaport/',
      SCHEMELESS: 'admin:s3cret-pw@idp.example.com',
    });
    expect(settings.url('PLAIN')).toBeUndefined();
    expect(settings.url('BROKEN', { allowHttp: true })).toBeUndefined();
    expect(settings.url('SCHEMELESS', { allowHttp: true })).toBeUndefined();
    expect(settings.problems).toHaveLength(3);
    expect(settings.problems.map((problem) => problem.split(' ')[0])).toEqual(['PLAIN', 'BROKEN', 'SCHEMELESS']);
    for (const problem of settings.problems) {
      expect(problem).not.toContain('s3cret-pw');
      expect(problem).not.toContain('admin');
    }
  });

  it('reads values with defaults', () => {
    const settings = createSettingsReader({ URL: 'http://idp:8080/x', LIST: ' a, ,b ', ON: 'yes' });
    expect(settings.url('URL', { allowHttp: true })).toBe('http://idp:8080/x');
    expect(settings.list('LIST')).toEqual(['a', 'b']);
    expect(settings.boolean('ON', { default: false })).toBe(true);
    expect(settings.integer('PORT', { default: 3000 })).toBe(3000);
    expect(settings.string('X', { default: 'd' })).toBe('d');
    expect(settings.problems).toEqual([]);
  });
});

describe('settings scoped to an adapter', () => {
  it("reads the settings under the adapter's prefix, and names the full setting in its problems", () => {
    const settings = createSettingsReader({
      ACME_URL: 'https://idp.example.com',
      ACME_MODE: 'z',
      URL: 'https://not-this-one.example.com',
      AWS_REGION: 'eu-west-1',
    });
    const acme = settings.scoped('ACME');
    expect(acme.prefix).toBe('ACME');
    expect(acme.nameOf('API_TOKEN')).toBe('ACME_API_TOKEN');
    expect(acme.url('URL', { required: true })).toBe('https://idp.example.com');
    expect(acme.raw('URL')).toBe('https://idp.example.com');
    expect(acme.oneOf('MODE', ['a', 'b'] as const)).toBeUndefined();
    expect(acme.secret('API_TOKEN', { required: true })).toBeUndefined();
    acme.problem(`Set ${acme.nameOf('API_TOKEN')} to the admin token.`);
    // The root reader still reads settings without the prefix, and gathers the scoped reader's problems.
    expect(settings.string('AWS_REGION')).toBe('eu-west-1');
    expect(settings.problems).toEqual([
      'ACME_MODE must be one of a, b (got "z").',
      'ACME_API_TOKEN is required.',
      'Set ACME_API_TOKEN to the admin token.',
    ]);
    expect(acme.problems).toBe(settings.problems);
    expect([...settings.names]).toEqual(['ACME_URL', 'ACME_ALLOW_INSECURE_HTTP', 'ACME_MODE', 'ACME_API_TOKEN', 'AWS_REGION']);
  });

  it('scopes within a scope', () => {
    const settings = createSettingsReader({ ACME_OAUTH_CLIENT_ID: 'bridge' });
    const oauth = settings.scoped('ACME').scoped('OAUTH');
    expect(oauth.prefix).toBe('ACME_OAUTH');
    expect(oauth.string('CLIENT_ID')).toBe('bridge');
    expect(oauth.nameOf('CLIENT_SECRET')).toBe('ACME_OAUTH_CLIENT_SECRET');
  });

  it('reads the settings every adapter has: <PREFIX>_TIMEOUT_MS, 30 000 ms by default, 100 to 120 000', () => {
    const shared = (values: Record<string, string>) => {
      const settings = createSettingsReader(values);
      return { read: readSharedAdapterSettings(settings.scoped('ACME')), problems: settings.problems, names: [...settings.names] };
    };
    expect(shared({})).toEqual({ read: { timeoutMs: 30_000 }, problems: [], names: ['ACME_TIMEOUT_MS'] });
    expect(shared({ ACME_TIMEOUT_MS: '5000' }).read).toEqual({ timeoutMs: 5000 });
    expect(shared({ ACME_TIMEOUT_MS: '100' }).read).toEqual({ timeoutMs: 100 });
    expect(shared({ ACME_TIMEOUT_MS: '120000' }).read).toEqual({ timeoutMs: 120_000 });
    expect(shared({ ACME_TIMEOUT_MS: '99' })).toMatchObject({
      read: { timeoutMs: 30_000 },
      problems: ['ACME_TIMEOUT_MS must be a whole number ≥ 100 and ≤ 120000 (got "99").'],
    });
    expect(shared({ ACME_TIMEOUT_MS: '120001' }).problems).toEqual([
      'ACME_TIMEOUT_MS must be a whole number ≥ 100 and ≤ 120000 (got "120001").',
    ]);
    expect(shared({ TIMEOUT_MS: '5000' }).read).toEqual({ timeoutMs: 30_000 });
  });
});

describe('adapter modules', () => {
  it('readAdapterOptions throws listing every problem of an adapter module', () => {
    const module = {
      id: 'demo',
      readOptions: (settings: SettingsReader) => {
        const demo = settings.scoped('DEMO');
        return { a: demo.string('A', { required: true }), b: demo.url('B', { required: true }), ...readSharedAdapterSettings(demo) };
      },
      create: () => ({}) as DcrAdapter,
    };
    expect(isAdapterModule(module)).toBe(true);
    expect(isAdapterModule({ id: 'x' })).toBe(false);
    expect(() => readAdapterOptions(module, {})).toThrow('Invalid demo settings:\n- DEMO_A is required.\n- DEMO_B is required.');
    expect(() => readAdapterOptions(module, { DEMO_A: 'a', DEMO_B: 'http://user:pw@b' })).toThrow(
      'Invalid demo settings:\n- DEMO_B must be an https URL (over http, admin credentials travel in clear; for an IdP on this machine or a private network, set DEMO_ALLOW_INSECURE_HTTP=true) (its value is not repeated here, as a URL may hold a password).',
    );
    expect(readAdapterOptions(module, { DEMO_A: 'a', DEMO_B: 'https://b' })).toEqual({ a: 'a', b: 'https://b', timeoutMs: 30_000 });
  });
});

describe('durations', () => {
  it('reads 0, units and their sums, and refuses anything else with the setting named', () => {
    expect(['0', '500ms', '90s', '15m', '1h30m', '2d'].map(parseDuration)).toEqual([0, 500, 90_000, 900_000, 5_400_000, 172_800_000]);
    for (const wrong of ['', '1', '1 h', '-1h', '1y', 'h1']) expect(parseDuration(wrong), wrong).toBeUndefined();
    const settings = createSettingsReader({ DCR_BRIDGE_ROTATION_OVERLAP: 'soon', OTHER: '40d' });
    expect(settings.duration('DCR_BRIDGE_ROTATION_OVERLAP', { defaultMs: 0 })).toBe(0);
    expect(settings.duration('OTHER', { defaultMs: 0, maxMs: 30 * 86_400_000 })).toBe(0);
    expect(settings.problems).toEqual([
      'DCR_BRIDGE_ROTATION_OVERLAP must be a duration such as 0, 90s, 15m or 1h30m (got "soon").',
      'OTHER must be a duration such as 0, 90s, 15m or 1h30m, at most 720 h (got "40d").',
    ]);
  });

  it('lets an adapter scope take http only with its ALLOW_INSECURE_HTTP', () => {
    const refused = createSettingsReader({ ACME_URL: 'http://127.0.0.1:8080' });
    expect(refused.scoped('ACME').url('URL')).toBeUndefined();
    expect(refused.problems[0]).toContain('set ACME_ALLOW_INSECURE_HTTP=true');
    const allowed = createSettingsReader({ ACME_URL: 'http://127.0.0.1:8080', ACME_ALLOW_INSECURE_HTTP: 'true' });
    expect(allowed.scoped('ACME').url('URL')).toBe('http://127.0.0.1:8080');
    expect(allowed.problems).toEqual([]);
  });
});
