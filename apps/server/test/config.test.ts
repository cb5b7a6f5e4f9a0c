import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@dcr-bridge/core';
import { devModeBanner, loadConfig, startServer } from '../src/index.js';
import { installCore } from './install-core.js';

const key = 'konnect_key_0123456789';
const storeKey = randomBytes(32).toString('base64');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcr-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('reads a PostgreSQL URL as the store, and never repeats it (it may carry a password) in a problem', async () => {
    const base = {
      DCR_BRIDGE_ADAPTER: 'okta',
      OKTA_DOMAIN: 'https://acme.okta.com',
      OKTA_API_TOKEN: '00token000000000000000000000000000000000000',
      DCR_BRIDGE_API_KEYS: key,
    };
    writeFileSync(join(dir, 'db-ca.pem'), '-----BEGIN CERTIFICATE-----\n');
    const { config } = await loadConfig(
      {
        ...base,
        DCR_BRIDGE_STORE: 'postgresql://bridge:s3cret@db.internal:6432/dcr?sslmode=verify-full',
        DCR_BRIDGE_STORE_CA_FILE: 'db-ca.pem',
      },
      dir,
    );
    expect(config?.store).toEqual({
      kind: 'postgres',
      url: 'postgresql://bridge:s3cret@db.internal:6432/dcr?sslmode=verify-full',
      caFile: join(dir, 'db-ca.pem'),
      description: 'PostgreSQL at db.internal:6432/dcr',
    });
    const bad = await loadConfig(
      { ...base, DCR_BRIDGE_STORE: 'postgres://bridge:s3cretw0rd@[db:5432/dcr', DCR_BRIDGE_STORE_CA_FILE: 'missing.pem' },
      dir,
    );
    expect(bad.problems).toEqual([
      expect.stringContaining('DCR_BRIDGE_STORE starts like a PostgreSQL URL but is not a URL'),
      `DCR_BRIDGE_STORE_CA_FILE: no file at ${join(dir, 'missing.pem')}.`,
    ]);
    expect(bad.problems.join('\n')).not.toContain('w0rd');
    const fileWithCa = await loadConfig({ ...base, DCR_BRIDGE_STORE_CA_FILE: 'db-ca.pem' }, dir);
    expect(fileWithCa.problems).toEqual([expect.stringContaining('the CA file is for a PostgreSQL store')]);
  });

  it('starts the dev mode with defaults when no adapter is chosen', async () => {
    const { config, problems } = await loadConfig({}, dir);
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      adapter: undefined,
      generatedApiKey: true,
      host: '127.0.0.1',
      port: 3000,
      basePath: '/',
      logLevel: 'info',
      operationTimeoutMs: 9000,
    });
    expect(config?.apiKeys[0]).toMatch(/^[A-Za-z0-9_]{12,256}$/);
    expect(config?.store).toEqual({ kind: 'file', path: join(dir, 'dcr-bridge.sqlite') });
  });

  it("never starts dev mode where production settings are: an adapter's settings, a store key, a public address", async () => {
    const { problems } = await loadConfig(
      {
        KEYCLOAK_URL: 'https://sso.example.com',
        KEYCLOAK_REALM: 'acme',
        DCR_BRIDGE_API_KEYS: key,
        HOST: '0.0.0.0',
        DCR_BRIDGE_STORE_KEY: storeKey,
      },
      dir,
    );
    expect(problems).toEqual([
      'KEYCLOAK_URL, KEYCLOAK_REALM are set but DCR_BRIDGE_ADAPTER is not: set DCR_BRIDGE_ADAPTER=keycloak to use the keycloak adapter (without an adapter the server would start its dev mode, which is not for production).',
      'DCR_BRIDGE_STORE_KEY is set but DCR_BRIDGE_ADAPTER is not: choose the adapter (dev mode keeps everything in memory and takes no store key).',
      'HOST=0.0.0.0 without DCR_BRIDGE_ADAPTER: dev mode only listens on loopback (127.0.0.1, ::1, localhost), as it is not for production. Set DCR_BRIDGE_ADAPTER, or HOST=127.0.0.1 for dev mode.',
    ]);
    // Dev mode on loopback with a key of one's own is fine; OKTA_DOMAIN alone still chooses okta (Kong's example's setting).
    expect((await loadConfig({ DCR_BRIDGE_API_KEYS: key, HOST: '127.0.0.1' }, dir)).problems).toEqual([]);
    expect(
      (await loadConfig({ OKTA_DOMAIN: 'https://acme.okta.com', OKTA_API_TOKEN: 't', DCR_BRIDGE_API_KEYS: key }, dir)).config?.adapter
        ?.module.id,
    ).toBe('okta');
  });

  it('reads an adapter, its settings and the server settings from the environment', async () => {
    const { config, problems } = await loadConfig(
      {
        DCR_BRIDGE_ADAPTER: 'rfc7591',
        DCR_BRIDGE_API_KEYS: `${key}, second_key_0123456789`,
        RFC7591_ISSUER: 'https://idp.example.com',
        RFC7591_INITIAL_ACCESS_TOKEN: 'iat',
        PORT: '8080',
        DCR_BRIDGE_BASE_PATH: '/v1/dcr',
        DCR_BRIDGE_LOG_LEVEL: 'debug',
        DCR_BRIDGE_STORE: 'data/state.sqlite',
        DCR_BRIDGE_STORE_KEY: storeKey,
      },
      dir,
    );
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      apiKeys: [key, 'second_key_0123456789'],
      generatedApiKey: false,
      host: '0.0.0.0',
      port: 8080,
      basePath: '/v1/dcr',
      logLevel: 'debug',
      store: { kind: 'file', path: join(dir, 'data', 'state.sqlite') },
    });
    expect(config?.adapter?.module.id).toBe('rfc7591');
    expect(config?.adapter?.options).toMatchObject({ issuer: 'https://idp.example.com', initialAccessToken: 'iat' });
    expect(config?.storeKeys).toHaveLength(1);
  });

  it('runs a Kong example bridge configuration unchanged: OKTA_DOMAIN selects the okta adapter', async () => {
    const { config, problems } = await loadConfig(
      { OKTA_DOMAIN: 'https://dev-something.okta.com/', OKTA_API_TOKEN: 'atoken', KONG_API_TOKEN: 'azertyuiop12' },
      dir,
    );
    expect(problems).toEqual([]);
    expect(config?.adapter?.module.id).toBe('okta');
    expect(config).toMatchObject({ apiKeys: ['azertyuiop12'], port: 3000, host: '0.0.0.0' });
  });

  it("accepts Kong's example bridge names for the API key", async () => {
    for (const name of ['KONG_API_TOKENS', 'KONG_API_TOKEN']) {
      const { config } = await loadConfig(
        { [name]: key, DCR_BRIDGE_ADAPTER: 'rfc7591', RFC7591_ISSUER: 'https://idp.example.com', DCR_BRIDGE_STORE_KEY: storeKey },
        dir,
      );
      expect(config?.apiKeys).toEqual([key]);
    }
  });

  it("lists every problem at once, the adapter's too, and never echoes secrets", async () => {
    const { config, problems } = await loadConfig(
      {
        DCR_BRIDGE_ADAPTER: 'rfc7591',
        DCR_BRIDGE_API_KEYS: 'short-key!',
        PORT: 'eighty',
        DCR_BRIDGE_LOG_LEVEL: 'loud',
        DCR_BRIDGE_STORE_KEY: 'not-a-key-secret-value',
        RFC7591_TOKEN_CLIENT_SECRET: 'client-secret-value',
      },
      dir,
    );
    expect(config).toBeUndefined();
    // The server's settings as declared, then the checks between them, then the adapter's.
    expect(problems).toEqual([
      'PORT must be a whole number ≥ 0 and ≤ 65535 (got "eighty").',
      expect.stringMatching(/^DCR_BRIDGE_LOG_LEVEL must be one of debug, info, warn, error \(got "loud"\)\.$/),
      expect.stringMatching(/^DCR_BRIDGE_API_KEYS: key #1 must be 12–256 characters/),
      expect.stringMatching(/^DCR_BRIDGE_STORE_KEY: key #1: .*openssl rand -base64 32/),
      'Set RFC7591_ISSUER (discovery) or RFC7591_REGISTRATION_ENDPOINT.',
      'RFC7591_TOKEN_CLIENT_ID and RFC7591_TOKEN_CLIENT_SECRET go together.',
    ]);
    const text = problems.join('\n');
    for (const secret of ['short-key!', 'not-a-key-secret-value', 'client-secret-value']) expect(text).not.toContain(secret);
  });

  it('requires API keys outside dev mode', async () => {
    const { problems } = await loadConfig(
      { DCR_BRIDGE_ADAPTER: 'rfc7591', RFC7591_ISSUER: 'https://idp.example.com', DCR_BRIDGE_STORE_KEY: storeKey },
      dir,
    );
    expect(problems).toEqual([expect.stringMatching(/^DCR_BRIDGE_API_KEYS is required/)]);
  });

  it('reads a YAML or JSON file named by DCR_BRIDGE_CONFIG, the environment winning', async () => {
    writeFileSync(
      join(dir, 'bridge.yaml'),
      `DCR_BRIDGE_ADAPTER: rfc7591\nDCR_BRIDGE_API_KEYS:\n  - ${key}\n  - other_key_0123456789\nRFC7591_ISSUER: https://file.example.com\nPORT: 4000\n`,
    );
    const yaml = await loadConfig({ DCR_BRIDGE_CONFIG: 'bridge.yaml', PORT: '5000', DCR_BRIDGE_STORE_KEY: storeKey }, dir);
    expect(yaml.problems).toEqual([]);
    expect(yaml.config).toMatchObject({ apiKeys: [key, 'other_key_0123456789'], port: 5000 });
    expect(yaml.config?.adapter?.options).toMatchObject({ issuer: 'https://file.example.com' });

    writeFileSync(
      join(dir, 'bridge.json'),
      JSON.stringify({ DCR_BRIDGE_ADAPTER: 'rfc7591', DCR_BRIDGE_API_KEYS: key, RFC7591_ISSUER: 'https://json.example.com' }),
    );
    const json = await loadConfig(
      { DCR_BRIDGE_CONFIG: join(dir, 'bridge.json'), RFC7591_ISSUER: 'https://env.example.com', DCR_BRIDGE_STORE_KEY: storeKey },
      dir,
    );
    expect(json.config?.adapter?.options).toMatchObject({ issuer: 'https://env.example.com' });
  });

  it('refuses a config file setting that nothing reads, naming the nearest one that is', async () => {
    writeFileSync(
      join(dir, 'typo.yaml'),
      `DCR_BRIDGE_ADAPTER: okta\nDCR_BRIDGE_API_KEYS: ${key}\nOKTA_DOMAIN: https://acme.okta.com\nOKTA_API_TOKEN: t\nDCR_BRIDGE_BASEPATH: /v1/dcr\nKEYCLOAK_URL: https://sso.example.com\n`,
    );
    expect((await loadConfig({ DCR_BRIDGE_CONFIG: 'typo.yaml' }, dir)).problems).toEqual([
      'DCR_BRIDGE_CONFIG sets DCR_BRIDGE_BASEPATH, which the server and the okta adapter do not read. Did you mean DCR_BRIDGE_BASE_PATH?',
      'DCR_BRIDGE_CONFIG sets KEYCLOAK_URL, which the server and the okta adapter do not read.',
    ]);
    // Another adapter's names in the environment are someone else's business (the environment holds everything);
    // a DCR_BRIDGE_ name no setting has is a typo (see the next test).
    expect(
      (
        await loadConfig(
          {
            DCR_BRIDGE_ADAPTER: 'okta',
            DCR_BRIDGE_API_KEYS: key,
            OKTA_DOMAIN: 'https://acme.okta.com',
            OKTA_API_TOKEN: 't',
            KEYCLOAK_URL: 'https://sso.example.com',
          },
          dir,
        )
      ).problems,
    ).toEqual([]);
  });

  it('reports a missing, unreadable or misshapen config file', async () => {
    expect((await loadConfig({ DCR_BRIDGE_CONFIG: 'missing.yaml' }, dir)).problems).toEqual([expect.stringMatching(/does not exist/)]);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect((await loadConfig({ DCR_BRIDGE_CONFIG: 'bad.json' }, dir)).problems).toEqual([expect.stringMatching(/is not valid JSON/)]);
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    expect((await loadConfig({ DCR_BRIDGE_CONFIG: 'list.yaml' }, dir)).problems).toEqual([expect.stringMatching(/must hold a map/)]);
  });
});

describe('adapter registry', () => {
  it('says how to install an adapter that is not installed, beside the ones that are', async () => {
    const { problems } = await loadConfig({ DCR_BRIDGE_ADAPTER: 'gluu', DCR_BRIDGE_API_KEYS: key }, dir);
    expect(problems).toEqual([
      'DCR_BRIDGE_ADAPTER is gluu; the adapters installed are authentik, cognito, fusionauth, keycloak, okta, pingfederate, pingone, rfc7591, zitadel. The gluu adapter is not installed: npm install @dcr-bridge/adapter-gluu',
    ]);
  });

  it('loads a third-party adapter package by module specifier, with its own settings', async () => {
    const specifier = new URL('./fixtures/third-party-adapter.mjs', import.meta.url).href;
    const missing = await loadConfig({ DCR_BRIDGE_ADAPTER: specifier, DCR_BRIDGE_API_KEYS: key }, dir);
    expect(missing.problems).toEqual(['ACME_URL is required.']);
    const { config } = await loadConfig(
      { DCR_BRIDGE_ADAPTER: specifier, DCR_BRIDGE_API_KEYS: key, ACME_URL: 'https://acme.example.com' },
      dir,
    );
    expect(config?.adapter?.module.id).toBe('acme');
  });

  it('refuses a module that is not an adapter package, and one that is not installed', async () => {
    const notAdapter = await loadConfig(
      { DCR_BRIDGE_ADAPTER: new URL('./fixtures/not-an-adapter.mjs', import.meta.url).href, DCR_BRIDGE_API_KEYS: key },
      dir,
    );
    expect(notAdapter.problems).toEqual([expect.stringMatching(/does not export dcrBridgeAdapter/)]);
    const missing = await loadConfig({ DCR_BRIDGE_ADAPTER: '@acme/dcr-bridge-adapter', DCR_BRIDGE_API_KEYS: key }, dir);
    expect(missing.problems).toEqual([
      'DCR_BRIDGE_ADAPTER "@acme/dcr-bridge-adapter": @acme/dcr-bridge-adapter could not be loaded (it is not installed): npm install @acme/dcr-bridge-adapter',
    ]);
  });

  it('resolves an adapter path against the working directory, and tells "not there" from "failed to load"', async () => {
    mkdirSync(join(dir, 'adapters'));
    installCore(dir);
    copyFileSync(fileURLToPath(new URL('./fixtures/third-party-adapter.mjs', import.meta.url)), join(dir, 'adapters', 'mine.mjs'));
    const relative = await loadConfig(
      { DCR_BRIDGE_ADAPTER: './adapters/mine.mjs', DCR_BRIDGE_API_KEYS: key, ACME_URL: 'https://acme.example.com' },
      dir,
    );
    expect(relative.problems).toEqual([]);
    expect(relative.config?.adapter?.module.id).toBe('acme');
    const absent = await loadConfig({ DCR_BRIDGE_ADAPTER: './adapters/absent.mjs', DCR_BRIDGE_API_KEYS: key }, dir);
    expect(absent.problems).toEqual([expect.stringContaining('could not be loaded (it is not installed)')]);
    writeFileSync(join(dir, 'adapters', 'broken.mjs'), "import '@acme/some-sdk-that-is-missing';\nexport const dcrBridgeAdapter = {};\n");
    const broken = await loadConfig({ DCR_BRIDGE_ADAPTER: './adapters/broken.mjs', DCR_BRIDGE_API_KEYS: key }, dir);
    expect(broken.problems).toEqual([
      expect.stringMatching(/could not be loaded \(it is there but failed to load: .*@acme\/some-sdk-that-is-missing/),
    ]);
  });
});

describe('dev mode banner', () => {
  it('lists a missing store key with every other problem, for an adapter that keeps state', async () => {
    const { problems } = await loadConfig(
      { DCR_BRIDGE_ADAPTER: 'rfc7591', RFC7591_ISSUER: 'https://idp.example.com', DCR_BRIDGE_API_KEYS: key, PORT: 'abc' },
      dir,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT must be a whole number/),
        expect.stringMatching(/^DCR_BRIDGE_STORE_KEY is required/),
      ]),
    );
  });

  it('refuses a DCR_BRIDGE_ variable nothing reads, naming the nearest setting, but not Kubernetes service links', async () => {
    const okta = { DCR_BRIDGE_ADAPTER: 'okta', OKTA_DOMAIN: 'https://acme.okta.com', OKTA_API_TOKEN: 't', DCR_BRIDGE_API_KEYS: key };
    expect((await loadConfig({ ...okta, DCR_BRIDGE_BASEPATH: '/v1/dcr' }, dir)).problems).toEqual([
      'DCR_BRIDGE_BASEPATH is set in the environment, but no setting has that name. Did you mean DCR_BRIDGE_BASE_PATH?',
    ]);
    const serviceLinks = {
      DCR_BRIDGE_SERVICE_HOST: '10.0.0.7',
      DCR_BRIDGE_PORT: 'tcp://10.0.0.7:80',
      DCR_BRIDGE_PORT_80_TCP_ADDR: '10.0.0.7',
    };
    expect((await loadConfig({ ...okta, ...serviceLinks }, dir)).problems).toEqual([]);
  });

  it('asks "did you mean" for a mistyped adapter id before any install advice', async () => {
    const { problems } = await loadConfig({ DCR_BRIDGE_ADAPTER: 'keycloack', DCR_BRIDGE_API_KEYS: key }, dir);
    expect(problems[0]).toBe('DCR_BRIDGE_ADAPTER is keycloack, which no adapter is called. Did you mean keycloak?');
    expect(problems.join('\n')).not.toContain('npm install');
  });

  it('leaves no file behind when the start is refused (the overlap on an IdP that keeps one secret)', async () => {
    const { config, problems } = await loadConfig(
      {
        DCR_BRIDGE_ADAPTER: 'keycloak',
        DCR_BRIDGE_API_KEYS: key,
        KEYCLOAK_URL: 'https://sso.example.com',
        KEYCLOAK_REALM: 'konnect',
        KEYCLOAK_CLIENT_ID: 'dcr-bridge',
        KEYCLOAK_CLIENT_SECRET: 'admin-secret',
        DCR_BRIDGE_ROTATION_OVERLAP: '1h',
        PORT: '0',
        HOST: '127.0.0.1',
      },
      dir,
    );
    expect(problems).toEqual([]);
    await expect(startServer(config!, { logger: silentLogger, printBanner: () => undefined })).rejects.toThrow(/Keycloak.*overlap/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('prints a key it generated, never one it was given', () => {
    const options = { url: 'http://127.0.0.1:3000', basePath: '/', issuer: 'http://127.0.0.1:3000/dev-idp' };
    expect(devModeBanner({ ...options, apiKey: 'generated_key_0123456789', generatedApiKey: true })).toContain(
      "X-API-KEY: generated_key_0123456789'",
    );
    const given = devModeBanner({ ...options, apiKey: 'operators_own_key_0123456789', generatedApiKey: false });
    expect(given).not.toContain('operators_own_key_0123456789');
    expect(given).toContain('X-API-KEY: $KEY');
  });
});
