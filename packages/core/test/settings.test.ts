import { describe, expect, it } from 'vitest';
import {
  defineAdapterSettings,
  defineSettings,
  isAdapterModule,
  parseDuration,
  readAdapterOptions,
  readSettings,
  settingName,
  settingNamesOf,
  setting,
  type DcrAdapter,
} from '../src/index.js';

describe('settings', () => {
  const schema = defineSettings({
    settings: {
      url: setting.url('URL', { required: true, doc: 'the IdP' }),
      n: setting.integer('N', { default: 3, min: 1, doc: 'a count' }),
      b: setting.boolean('B', { default: false, doc: 'a switch' }),
      mode: setting.oneOf('MODE', ['a', 'b'], { doc: 'a mode' }),
      secret: setting.secret('SECRET', { required: true, doc: 'a secret' }),
      missing: setting.text('MISSING', { required: true, doc: 'something' }),
    },
  });

  it('collects every problem at once and never echoes secrets', () => {
    expect(readSettings(schema, { URL: 'http://idp', N: 'x', B: 'maybe', MODE: 'z', SECRET: '' }).problems).toEqual([
      'N must be a whole number ≥ 1 (got "x").',
      'B must be true or false (got "maybe").',
      'MODE must be one of a, b (got "z").',
      'SECRET is required.',
      'MISSING is required.',
      'URL must be an https URL (its value is not repeated here, as a URL may hold a password).',
    ]);
  });

  it('never repeats a rejected URL, which may carry a password, nor a rejected secret', () => {
    const urls = defineSettings({
      settings: {
        plain: setting.url('PLAIN', { doc: '' }),
        broken: setting.url('BROKEN', { allowHttp: true, doc: '' }),
        schemeless: setting.url('SCHEMELESS', { allowHttp: true, doc: '' }),
        key: setting.secret('KEY', { doc: '', valid: { test: (value) => value.startsWith('-----'), expected: 'a PEM key' } }),
      },
    });
    const { options, problems } = readSettings(urls, {
      PLAIN: 'http://admin:s3cret-pw@idp.example.com/',
      BROKEN: 'https://admin:s3cret-pw@idp.example.com:notaport/',
      SCHEMELESS: 'admin:s3cret-pw@idp.example.com',
      KEY: 'admin:s3cret-pw',
    });
    expect(options).toEqual({ plain: undefined, broken: undefined, schemeless: undefined, key: undefined });
    expect(problems.map((problem) => problem.split(' ')[0])).toEqual(['BROKEN', 'SCHEMELESS', 'KEY', 'PLAIN']);
    expect(problems[2]).toBe('KEY must be a PEM key.');
    for (const problem of problems) {
      expect(problem).not.toContain('s3cret-pw');
      expect(problem).not.toContain('admin');
    }
  });

  it('reads values with defaults; unset and empty are the same', () => {
    const defaults = defineSettings({
      settings: {
        url: setting.url('URL', { allowHttp: true, doc: '' }),
        list: setting.list('LIST', { doc: '' }),
        none: setting.list('NONE', { doc: '' }),
        on: setting.boolean('ON', { default: false, doc: '' }),
        port: setting.integer('PORT', { default: 3000, doc: '' }),
        x: setting.text('X', { default: 'd', doc: '' }),
        empty: setting.text('EMPTY', { doc: '' }),
      },
    });
    expect(readSettings(defaults, { URL: 'http://idp:8080/x', LIST: ' a, ,b ', ON: 'YES', EMPTY: '  ' })).toEqual({
      options: { url: 'http://idp:8080/x', list: ['a', 'b'], none: [], on: true, port: 3000, x: 'd', empty: undefined },
      problems: [],
    });
  });

  it('checks text against its pattern, and runs the rules between settings with what could be read', () => {
    const ruled = defineSettings({
      prefix: 'ACME',
      settings: {
        id: setting.text('ID', { valid: { test: /^[a-z]+$/, expected: 'lowercase letters' }, doc: '' }),
        a: setting.text('A', { doc: '' }),
        b: setting.text('B', { doc: '' }),
      },
      check: (values, { isSet }) => [
        ...(values.a && values.b ? ['Set ACME_A or ACME_B, not both.'] : []),
        ...(isSet('id') && values.id === undefined ? ['ACME_ID was rejected above.'] : []),
      ],
      options: ({ id, a, b }) => ({ id, choice: a ?? b }),
    });
    expect(readSettings(ruled, { ACME_ID: 'X1', ACME_A: 'a', ACME_B: 'b' }).problems).toEqual([
      'ACME_ID must be lowercase letters (got "X1").',
      'Set ACME_A or ACME_B, not both.',
      'ACME_ID was rejected above.',
    ]);
    expect(readSettings(ruled, { ACME_ID: 'abc', ACME_B: 'b', ID: 'not-this-one' })).toEqual({
      options: { id: 'abc', choice: 'b' },
      problems: [],
    });
  });
});

describe('adapter settings', () => {
  const acme = defineAdapterSettings({
    prefix: 'ACME',
    settings: {
      baseUrl: setting.url('URL', { required: true, doc: 'the IdP' }),
      mode: setting.oneOf('MODE', ['a', 'b'], { doc: '' }),
      apiToken: setting.secret('API_TOKEN', { required: true, doc: '' }),
      region: setting.text('AWS_REGION', { unprefixed: true, doc: '' }),
    },
  });

  it("reads the settings under the adapter's prefix, and names the whole setting in its problems", () => {
    expect(acme.entries.map(({ fullName }) => fullName)).toEqual([
      'ACME_URL',
      'ACME_MODE',
      'ACME_API_TOKEN',
      'AWS_REGION',
      'ACME_TIMEOUT_MS',
      'ACME_ALLOW_INSECURE_HTTP',
    ]);
    expect(readSettings(acme, { ACME_URL: 'https://idp.example.com', ACME_MODE: 'z', URL: 'https://no', AWS_REGION: 'eu-west-1' })).toEqual(
      {
        options: { baseUrl: 'https://idp.example.com', mode: undefined, apiToken: undefined, region: 'eu-west-1', timeoutMs: 30_000 },
        problems: ['ACME_MODE must be one of a, b (got "z").', 'ACME_API_TOKEN is required.'],
      },
    );
  });

  it('reads the settings every adapter has: <PREFIX>_TIMEOUT_MS, 30 000 ms by default, 100 to 120 000', () => {
    const timeout = (value?: string) => {
      const { options, problems } = readSettings(acme, { ACME_URL: 'https://idp', ACME_API_TOKEN: 't', ACME_TIMEOUT_MS: value });
      return { timeoutMs: options.timeoutMs, problems };
    };
    expect(timeout()).toEqual({ timeoutMs: 30_000, problems: [] });
    expect(timeout('5000')).toEqual({ timeoutMs: 5000, problems: [] });
    expect(timeout('100').timeoutMs).toBe(100);
    expect(timeout('120000').timeoutMs).toBe(120_000);
    expect(timeout('99')).toEqual({
      timeoutMs: 30_000,
      problems: ['ACME_TIMEOUT_MS must be a whole number ≥ 100 and ≤ 120000 (got "99").'],
    });
    expect(timeout('120001').problems).toEqual(['ACME_TIMEOUT_MS must be a whole number ≥ 100 and ≤ 120000 (got "120001").']);
    expect(timeout('1.5').problems).toEqual(['ACME_TIMEOUT_MS must be a whole number ≥ 100 and ≤ 120000 (got "1.5").']);
  });

  it('lets an adapter take http only with its ALLOW_INSECURE_HTTP', () => {
    const refused = readSettings(acme, { ACME_URL: 'http://127.0.0.1:8080', ACME_API_TOKEN: 't' });
    expect(refused.problems).toEqual([
      'ACME_URL must be an https URL (over http, admin credentials travel in clear; for an IdP on this machine or a private network, set ACME_ALLOW_INSECURE_HTTP=true) (its value is not repeated here, as a URL may hold a password).',
    ]);
    const allowed = readSettings(acme, { ACME_URL: 'http://127.0.0.1:8080', ACME_API_TOKEN: 't', ACME_ALLOW_INSECURE_HTTP: 'true' });
    expect(allowed).toEqual({ options: expect.objectContaining({ baseUrl: 'http://127.0.0.1:8080' }), problems: [] });
    expect(allowed.options).not.toHaveProperty('allowInsecureHttp');
  });
});

describe('adapter modules', () => {
  it('readAdapterOptions throws listing every problem of an adapter module', () => {
    const module = {
      id: 'demo',
      settings: defineAdapterSettings({
        prefix: 'DEMO',
        settings: { a: setting.text('A', { required: true, doc: '' }), b: setting.url('B', { required: true, doc: '' }) },
      }),
      create: () => ({}) as DcrAdapter,
    };
    expect(isAdapterModule(module)).toBe(true);
    expect(isAdapterModule({ id: 'x', create: () => ({}) })).toBe(false);
    expect(isAdapterModule({ id: 'x', readOptions: () => ({}), create: () => ({}) })).toBe(false);
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
    const durations = defineSettings({
      settings: {
        overlap: setting.duration('DCR_BRIDGE_ROTATION_OVERLAP', { default: 0, doc: '' }),
        other: setting.duration('OTHER', { default: 0, max: 30 * 86_400_000, doc: '' }),
        fine: setting.duration('FINE', { default: 0, doc: '' }),
      },
    });
    expect(readSettings(durations, { DCR_BRIDGE_ROTATION_OVERLAP: 'soon', OTHER: '40d', FINE: '1h30m' })).toEqual({
      options: { overlap: 0, other: 0, fine: 5_400_000 },
      problems: [
        'DCR_BRIDGE_ROTATION_OVERLAP must be a duration such as 0, 90s, 15m or 1h30m (got "soon").',
        'OTHER must be a duration such as 0, 90s, 15m or 1h30m, at most 720 h (got "40d").',
      ],
    });
  });
});

describe('setting names for texts an operator reads', () => {
  it("names an adapter's setting by its option key, and the option where the adapter was built in code", () => {
    const declared = defineAdapterSettings({
      prefix: 'DEMO',
      settings: {
        realm: setting.text('REALM', { doc: '' }),
        serverWide: setting.text('DCR_BRIDGE_DEMO', { unprefixed: true, doc: '' }),
      },
    });
    const names = settingNamesOf(declared);
    expect(names).toMatchObject({ realm: 'DEMO_REALM', serverWide: 'DCR_BRIDGE_DEMO', timeoutMs: 'DEMO_TIMEOUT_MS' });
    expect(settingName(names, 'realm')).toBe('DEMO_REALM');
    expect(settingName(undefined, 'realm')).toBe('the `realm` option');
  });
});
