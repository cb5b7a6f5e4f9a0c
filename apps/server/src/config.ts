import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseStoreKey, readSettings, type AdapterModule, type LogLevel, type OptionsOf } from '@dcr-bridge/core';
import { apiKeyProblem, generateApiKey } from '@dcr-bridge/core/http';
import { didYouMean } from './nearest.js';
import { KNOWN_ADAPTERS, loadAdapterModule, optionalPackageProblem, settingPrefix } from './registry.js';
import { serverSettings } from './settings.js';

type ServerSettings = OptionsOf<typeof serverSettings>;

/**
 * The whole configuration, read once at boot from the environment over an optional YAML/JSON file
 * (DCR_BRIDGE_CONFIG, a flat map of the same names). Every problem, the server's and the adapter's, is
 * collected and reported at once; secret values are never repeated.
 */
export interface ServerConfig {
  /** Undefined: the embedded dev mode. */
  adapter?: { module: AdapterModule; options: unknown };
  apiKeys: string[];
  /**
   * DCR_BRIDGE_API_KEYS_FILE: a file of keys (comma- or line-separated, `#` comments), read at each start and
   * added to DCR_BRIDGE_API_KEYS; what `dcr-bridge konnect setup --new-key` and `rotate-key` write.
   */
  apiKeysFile?: string;
  /** DCR_BRIDGE_PUBLIC_URL: where Konnect reaches the bridge (without the base path); for `dcr-bridge konnect`. */
  publicUrl?: string;
  /** DCR_BRIDGE_ISSUER: the IdP's issuer for Konnect's auth strategy, where the adapter cannot tell it. */
  issuer?: string;
  /** True when the dev mode generated the API key (the banner shows it). */
  generatedApiKey: boolean;
  host: string;
  port: number;
  basePath: string;
  logLevel: LogLevel;
  /** Where per-client state and, with PostgreSQL, the create journal are kept (DCR_BRIDGE_STORE). */
  store: StoreLocation;
  /** The create journal (journal-file.ts), for every adapter. */
  journalPath: string;
  storeKeys: Uint8Array[];
  operationTimeoutMs: number;
  completionTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** How long a rotated-away secret keeps working after Konnect got the new one (DCR_BRIDGE_ROTATION_OVERLAP). */
  rotationOverlapMs: number;
  /** The canary (canary.ts): off when `intervalMs` is 0. */
  canary: { intervalMs: number; scopes: string[]; readiness: boolean };
  /** `/metrics`: on the main port (`main`, default), on a port of its own, or off. */
  metrics: { where: 'main' } | { where: 'port'; port: number } | { where: 'off' };
}

export type ConfigResult = { config: ServerConfig; problems: [] } | { config?: undefined; problems: string[] };

export async function loadConfig(env: Record<string, string | undefined>, cwd: string = process.cwd()): Promise<ConfigResult> {
  const problems: string[] = [];
  // Set by the Lambda runtime (a reserved variable): the function's only writable place is /tmp.
  const onLambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  const fromFile = await readConfigFile(env.DCR_BRIDGE_CONFIG, cwd, problems);
  const values = { ...fromFile, ...definedOnly(env) };
  const { options: read, problems: settingProblems } = readSettings(serverSettings, values);
  problems.push(...settingProblems);

  // Kong's example bridge is configured with OKTA_DOMAIN alone; its users switch without a new setting.
  const adapterChoice = read.adapter ?? (values.OKTA_DOMAIN?.trim() ? 'okta' : undefined);
  const devMode = adapterChoice === undefined;
  if (devMode) problems.push(...devModeRefusals(values));
  const keys = [...read.apiKeys, ...readApiKeysFile(read.apiKeysFile, cwd, problems)];
  const apiKeys = keys.length > 0 ? keys : read.kongApiTokens.length > 0 ? read.kongApiTokens : read.kongApiToken;
  apiKeys.forEach((key, index) => {
    const problem = apiKeyProblem(key);
    if (problem) problems.push(`DCR_BRIDGE_API_KEYS: key #${index + 1} ${problem}.`);
  });
  if (apiKeys.length === 0 && !devMode)
    problems.push(
      'DCR_BRIDGE_API_KEYS is required: the keys Konnect sends in X-API-KEY (comma-separated; KONG_API_TOKENS is read too), or DCR_BRIDGE_API_KEYS_FILE naming a file of them.',
    );

  const storeKeys: Uint8Array[] = [];
  read.storeKeys.forEach((key, index) => {
    try {
      storeKeys.push(parseStoreKey(key));
    } catch (error) {
      problems.push(`DCR_BRIDGE_STORE_KEY: key #${index + 1}: ${(error as Error).message}`);
    }
  });

  let adapter: ServerConfig['adapter'];
  let adapterNames: string[] = [];
  if (adapterChoice !== undefined) {
    const lookup = await loadAdapterModule(adapterChoice, cwd);
    if ('problem' in lookup) problems.push(lookup.problem);
    else {
      const adapterSettings = readSettings(lookup.module.settings, values);
      problems.push(...adapterSettings.problems);
      adapter = { module: lookup.module, options: adapterSettings.options };
      adapterNames = lookup.module.settings.entries.map(({ fullName }) => fullName);
    }
  }

  if (adapter?.module.keepsState && read.storeKeys.length === 0)
    problems.push(
      `DCR_BRIDGE_STORE_KEY is required: the ${adapter.module.id} adapter keeps per-client state, encrypted at rest. Make a key once with: openssl rand -base64 32`,
    );
  const store = storeLocation(read.store, read.storeCaFile, cwd, problems);
  if (store.kind === 'postgres') {
    const problem = await optionalPackageProblem('@dcr-bridge/store-postgres', 'DCR_BRIDGE_STORE is a PostgreSQL URL');
    if (problem) problems.push(problem);
  }

  const config: ServerConfig = {
    adapter,
    apiKeys: apiKeys.length > 0 ? apiKeys : [generateApiKey()],
    ...(read.apiKeysFile === undefined ? {} : { apiKeysFile: resolve(cwd, read.apiKeysFile) }),
    ...(read.publicUrl === undefined ? {} : { publicUrl: read.publicUrl }),
    ...(read.issuer === undefined ? {} : { issuer: read.issuer }),
    generatedApiKey: apiKeys.length === 0,
    host: read.host ?? (devMode ? '127.0.0.1' : '0.0.0.0'),
    port: read.port,
    basePath: read.basePath,
    logLevel: read.logLevel,
    store,
    storeKeys,
    journalPath: resolve(cwd, read.journal ?? (onLambda ? LAMBDA_JOURNAL : 'dcr-bridge.journal')),
    operationTimeoutMs: read.operationTimeoutMs,
    completionTimeoutMs: read.completionTimeoutMs,
    shutdownTimeoutMs: read.shutdownTimeoutMs,
    rotationOverlapMs: read.rotationOverlapMs,
    canary: { intervalMs: read.canaryIntervalMs, scopes: read.canaryScopes, readiness: read.canaryReadiness },
    metrics: metricsSetting(read, onLambda),
  };
  const known = new Set([...serverSettings.entries.map(({ fullName }) => fullName), ...adapterNames]);
  problems.push(...unreadFileSettings(Object.keys(fromFile), known, adapter?.module.id));
  problems.push(...unknownEnvironment(env, known));
  return problems.length > 0 ? { problems } : { config, problems: [] };
}

/**
 * DCR_BRIDGE_STORE: an SQLite file that one process owns (default), or a PostgreSQL URL (`postgres://…` or
 * `postgresql://…`) for several replicas, which then also holds the create journal. DCR_BRIDGE_STORE_CA_FILE:
 * a PEM bundle of the CA that signed the database's certificate. The URL is never repeated in a message: it
 * may carry a password.
 */
export type StoreLocation = { kind: 'file'; path: string } | { kind: 'postgres'; url: string; caFile?: string; description: string };

function storeLocation(value: string, caFile: string | undefined, cwd: string, problems: string[]): StoreLocation {
  if (!/^postgres(ql)?:\/\//i.test(value)) {
    if (caFile !== undefined)
      problems.push(
        'DCR_BRIDGE_STORE_CA_FILE is set, but DCR_BRIDGE_STORE is a file: the CA file is for a PostgreSQL store (DCR_BRIDGE_STORE=postgres://…).',
      );
    return { kind: 'file', path: resolve(cwd, value) };
  }
  let description = 'PostgreSQL';
  try {
    const url = new URL(value);
    description = `PostgreSQL at ${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    problems.push(
      'DCR_BRIDGE_STORE starts like a PostgreSQL URL but is not a URL: write it as postgres://user:password@host:5432/database (percent-encode special characters in the password).',
    );
  }
  const caPath = caFile === undefined ? undefined : resolve(cwd, caFile);
  if (caPath !== undefined && !existsSync(caPath)) problems.push(`DCR_BRIDGE_STORE_CA_FILE: no file at ${caPath}.`);
  return { kind: 'postgres', url: value, ...(caPath === undefined ? {} : { caFile: caPath }), description };
}

/** Where the create journal goes on AWS Lambda, unless DCR_BRIDGE_JOURNAL says otherwise. */
export const LAMBDA_JOURNAL = '/tmp/dcr-bridge.journal';

/**
 * DCR_BRIDGE_METRICS (`on`, default, or `off`) and DCR_BRIDGE_METRICS_PORT (a port of its own for `/metrics`).
 * Off by default on AWS Lambda (unless a metrics port is set, which the Lambda entry refuses): each instance
 * counts only its own invocations, and a scrape would reach whichever instance the gateway picks.
 */
function metricsSetting(read: ServerSettings, onLambda: boolean): ServerConfig['metrics'] {
  const byDefault = onLambda && read.metricsPort === undefined ? 'off' : 'on';
  if ((read.metrics ?? byDefault) === 'off') return { where: 'off' };
  return read.metricsPort === undefined ? { where: 'main' } : { where: 'port', port: read.metricsPort };
}

/** Each known adapter's setting prefix: such a setting without DCR_BRIDGE_ADAPTER is a forgotten choice, not dev mode. */
const ADAPTER_PREFIXES: Record<string, string> = Object.fromEntries(KNOWN_ADAPTERS.map((id) => [settingPrefix(id), id]));

/**
 * Dev mode serves an in-memory IdP: it never starts where production settings are present (an adapter's
 * settings without DCR_BRIDGE_ADAPTER, a store key, an address other than loopback), so a forgotten
 * DCR_BRIDGE_ADAPTER is a refusal to start, not a bridge handing out clients of a toy IdP.
 */
function devModeRefusals(values: Record<string, string>): string[] {
  const refusals: string[] = [];
  const byAdapter = new Map<string, string[]>();
  for (const name of Object.keys(values)) {
    const prefix = Object.keys(ADAPTER_PREFIXES).find((candidate) => name.startsWith(candidate));
    if (prefix) byAdapter.set(ADAPTER_PREFIXES[prefix] as string, [...(byAdapter.get(ADAPTER_PREFIXES[prefix] as string) ?? []), name]);
  }
  for (const [id, names] of byAdapter) {
    refusals.push(
      `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} set but DCR_BRIDGE_ADAPTER is not: set DCR_BRIDGE_ADAPTER=${id} to use the ${id} adapter (without an adapter the server would start its dev mode, which is not for production).`,
    );
  }
  if (values.DCR_BRIDGE_STORE_KEY !== undefined)
    refusals.push(
      'DCR_BRIDGE_STORE_KEY is set but DCR_BRIDGE_ADAPTER is not: choose the adapter (dev mode keeps everything in memory and takes no store key).',
    );
  const host = values.HOST?.trim();
  if (host !== undefined && host !== '' && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
    refusals.push(
      `HOST=${host} without DCR_BRIDGE_ADAPTER: dev mode only listens on loopback (127.0.0.1, ::1, localhost), as it is not for production. Set DCR_BRIDGE_ADAPTER, or HOST=127.0.0.1 for dev mode.`,
    );
  }
  return refusals;
}

/**
 * A configuration file holds settings, nothing else: a name that neither the server nor the chosen adapter
 * read (a typo such as DCR_BRIDGE_BASEPATH, another adapter's setting, an option of another credential
 * type) is refused, with the nearest name that is read.
 */
function unreadFileSettings(fileNames: string[], read: ReadonlySet<string>, adapterId: string | undefined): string[] {
  const reader = adapterId ? `the server and the ${adapterId} adapter` : 'the server (no adapter is chosen)';
  return fileNames
    .filter((name) => !read.has(name))
    .map((name) => `DCR_BRIDGE_CONFIG sets ${name}, which ${reader} do not read.${didYouMean(name, read)}`);
}

/**
 * `DCR_BRIDGE_*` variables of the environment that nothing reads: a typo (`DCR_BRIDGE_BASEPATH`) would
 * otherwise be ignored silently. Kubernetes' service links for a Service named dcr-bridge
 * (`DCR_BRIDGE_SERVICE_*`, `DCR_BRIDGE_PORT*`) and the tests' own (`DCR_BRIDGE_TEST_*`) are not settings.
 */
function unknownEnvironment(env: Record<string, string | undefined>, read: ReadonlySet<string>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('DCR_BRIDGE_') && !read.has(name) && !NOT_SETTINGS.test(name))
    .map((name) => `${name} is set in the environment, but no setting has that name.${didYouMean(name, read)}`);
}

const NOT_SETTINGS = /^DCR_BRIDGE_(CONFIG|SERVICE_.*|PORT(_.*)?|TEST_.*)$/;

/**
 * The keys in DCR_BRIDGE_API_KEYS_FILE (a Kubernetes Secret mounted as a file, or what `dcr-bridge konnect`
 * wrote): separated by commas or line breaks, `#` starts a comment. Read at each start; never repeated in a problem.
 */
export function readApiKeysFile(name: string | undefined, cwd: string, problems?: string[]): string[] {
  if (name === undefined) return [];
  const file = resolve(cwd, name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems?.push(`DCR_BRIDGE_API_KEYS_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
    return [];
  }
  return parseApiKeys(text);
}

/** Keys separated by commas or line breaks; `#` to the end of a line is a comment. */
export function parseApiKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((key) => key.trim())
    .filter(Boolean);
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

async function readConfigFile(name: string | undefined, cwd: string, problems: string[]): Promise<Record<string, string>> {
  if (!name) return {};
  const file = resolve(cwd, name);
  if (!existsSync(file)) {
    problems.push(`DCR_BRIDGE_CONFIG names ${file}, which does not exist.`);
    return {};
  }
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    // yaml is loaded only for a YAML file, not at every start.
    parsed = extname(file) === '.json' ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (error) {
    problems.push(
      `DCR_BRIDGE_CONFIG ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
    );
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`DCR_BRIDGE_CONFIG ${file} must hold a map of setting names to values (e.g. KEYCLOAK_URL: https://…).`);
    return {};
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value)) values[key] = value.map(String).join(',');
    else if (value !== null && typeof value === 'object') problems.push(`DCR_BRIDGE_CONFIG: ${key} must be a value or a list, not a map.`);
    else if (value !== null && value !== undefined) values[key] = String(value);
  }
  return values;
}
