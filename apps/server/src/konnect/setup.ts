import { type DcrAdapter } from '@dcr-bridge/core';
import { generateApiKey, redactText } from '@dcr-bridge/core/http';
import { loadConfig, type ServerConfig } from '../config.js';
import { context, messageOf } from '../probe.js';
import { createKonnectClient, konnectUrls, KonnectError, type KonnectClient } from './client.js';
import { bridgeAcceptsKey, fingerprint, readKeyFile, writeKeyFile } from './keys.js';

/**
 * `dcr-bridge konnect setup | status | rotate-key`: the Konnect side of the bridge, from the bridge's own
 * configuration. Konnect's objects are found by name (KONNECT_DCR_PROVIDER_NAME, KONNECT_AUTH_STRATEGY_NAME,
 * both `dcr-bridge` by default), so `setup` is idempotent: it creates what is missing and changes only the
 * fields that differ. The provider's api_key is write-only in Konnect: `setup` sends it when it creates the
 * provider, with `--new-key`, or with `--update-key`; `rotate-key` replaces it without a refused moment.
 */
export type KonnectCommand = 'setup' | 'status' | 'rotate-key';
export type CheckGroup = 'configuration' | 'konnect' | 'provider' | 'strategy' | 'api key' | 'verify';

export interface KonnectCheck {
  group: CheckGroup;
  name: string;
  result: 'pass' | 'warn' | 'fail' | 'skip';
  detail?: string;
  fix?: string;
}

export interface KonnectChange {
  object: 'provider' | 'strategy' | 'key file';
  name: string;
  action: 'create' | 'update' | 'unchanged' | 'write';
  /** `field: old → new`; an api_key is shown as its fingerprint only. */
  fields: string[];
}

export interface KonnectReport {
  command: KonnectCommand;
  dryRun: boolean;
  ok: boolean;
  organization?: string;
  provider?: { id?: string; name: string; dcrBaseUrl: string };
  strategy?: { id?: string; name: string; active?: boolean };
  changes: KonnectChange[];
  verify?: { status: string; errors: string[] };
  checks: KonnectCheck[];
  /** What is left to do in Konnect, with the ids. */
  next: string[];
}

export interface KonnectOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  dryRun?: boolean;
  timeoutMs?: number;
  /** setup: make a new key, write it to `keyFile` and send it to Konnect. */
  newKey?: boolean;
  /** setup: send the bridge's key to Konnect even when the provider exists. rotate-key: always. */
  updateKey?: boolean;
  /** The file the bridge reads its keys from (DCR_BRIDGE_API_KEYS_FILE). */
  keyFile?: string;
  /** status: also run Konnect's verify (a real create and delete through the bridge). */
  verify?: boolean;
  /** rotate-key: how long to wait for the bridge to accept the new key (ms). */
  waitMs?: number;
  /** rotate-key: run after each write of the key file (deploy it: a Secret update and a rolling restart). */
  sync?: (keyFile: string) => Promise<void>;
  /** Opens the configured adapter (for its token endpoint and capabilities), as doctor does. */
  openAdapter(config: ServerConfig): Promise<{ adapter: DcrAdapter; close(): Promise<void> }>;
  /** For tests: Konnect's Retry-After waits. */
  sleep?: (ms: number) => Promise<void>;
}

/** What the bridge's configuration says Konnect should hold. */
export interface KonnectTarget {
  providerName: string;
  strategyName: string;
  strategyDisplayName: string;
  dcrBaseUrl: string;
  issuer: string;
  disableRefreshSecret: boolean;
  disableEventHooks: boolean;
  scopes: string[];
  credentialClaim: string[];
  authMethods: string[];
  /** The key Konnect should send, when it is to be sent. */
  apiKey?: string;
}

interface Provider {
  id: string;
  name: string;
  provider_type: string;
  issuer: string;
  active?: boolean;
  dcr_config?: { dcr_base_url?: string; disable_event_hooks?: boolean; disable_refresh_secret?: boolean };
  labels?: Record<string, string>;
}

interface Strategy {
  id: string;
  name: string;
  display_name: string;
  strategy_type: string;
  active?: boolean;
  configs?: { 'openid-connect'?: { issuer?: string; scopes?: string[]; credential_claim?: string[]; auth_methods?: string[] } };
  dcr_provider?: { id: string; name: string } | null;
}

const LABELS = { 'managed-by': 'dcr-bridge' };

/** Credential claims where the IdP's access tokens do not carry RFC 9068's client_id (override: KONNECT_CREDENTIAL_CLAIM). */
const CREDENTIAL_CLAIMS: Record<string, string> = { okta: 'cid', keycloak: 'azp' };

class Failed extends Error {}

export async function runKonnect(command: KonnectCommand, options: KonnectOptions): Promise<KonnectReport> {
  const report: KonnectReport = { command, dryRun: options.dryRun === true, ok: false, changes: [], checks: [], next: [] };
  const add = (check: KonnectCheck) => report.checks.push(check);
  try {
    await run(command, options, report, add);
  } catch (error) {
    if (error instanceof KonnectError)
      add({ group: 'konnect', name: 'Konnect API', result: 'fail', detail: error.message, fix: error.fix });
    else if (!(error instanceof Failed)) add({ group: 'konnect', name: 'unexpected error', result: 'fail', detail: messageOf(error) });
  }
  report.ok = report.checks.every((check) => check.result !== 'fail');
  return report;
}

async function run(command: KonnectCommand, options: KonnectOptions, report: KonnectReport, add: (check: KonnectCheck) => void) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const fail = (group: CheckGroup, name: string, detail: string, fix?: string): never => {
    add({ group, name, result: 'fail', detail, ...(fix ? { fix } : {}) });
    throw new Failed();
  };

  // 1. The token and where Konnect is.
  const token = options.env.KONNECT_TOKEN?.trim();
  if (!token)
    fail(
      'configuration',
      'KONNECT_TOKEN',
      'not set',
      'export a Konnect personal (kpat_…) or system account (spat_…) access token as KONNECT_TOKEN (never as an argument)',
    );
  const urls = konnectUrls(options.env);
  if ('problem' in urls) return fail('configuration', 'region', urls.problem);

  // 2. The key file (setup --new-key writes it before the configuration is read, so the configuration sees it).
  let env = { ...options.env };
  let newKey: string | undefined;
  const keyFile = options.keyFile ?? options.env.DCR_BRIDGE_API_KEYS_FILE;
  if (command === 'setup' && options.newKey) {
    if (!keyFile) fail('api key', 'key file', '--new-key needs --key-file <file> (or DCR_BRIDGE_API_KEYS_FILE)');
    newKey = generateApiKey();
    const existing = readKeyFile(keyFile!);
    report.changes.push({ object: 'key file', name: keyFile!, action: 'write', fields: [`add key ${fingerprint(newKey)} (mode 600)`] });
    if (!options.dryRun) writeKeyFile(keyFile!, [...existing, newKey]);
    // A dry run writes nothing: the configuration is read with the key it would have written.
    env = options.dryRun
      ? { ...env, DCR_BRIDGE_API_KEYS: [env.DCR_BRIDGE_API_KEYS, newKey].filter(Boolean).join(',') }
      : { ...env, DCR_BRIDGE_API_KEYS_FILE: keyFile };
  } else if (keyFile && options.keyFile) env = { ...env, DCR_BRIDGE_API_KEYS_FILE: keyFile };

  // 3. The bridge's configuration, read as the server reads it (the KONNECT_* names are this command's).
  const loaded = await loadConfig(Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('KONNECT_'))), options.cwd);
  if (!loaded.config) {
    loaded.problems.forEach((problem) => add({ group: 'configuration', name: 'setting', result: 'fail', detail: problem }));
    throw new Failed();
  }
  const { config } = loaded;
  const target = await resolveTarget(config, options, add, timeoutMs);
  if (command === 'setup' && (newKey || options.updateKey)) target.apiKey = newKey ?? config.apiKeys.at(-1);
  report.provider = { name: target.providerName, dcrBaseUrl: target.dcrBaseUrl };
  report.strategy = { name: target.strategyName };
  if (newKey && !options.dryRun) {
    // Konnect gets the key once the bridge accepts it, so that its verify (and every call after) is accepted.
    await options.sync?.(keyFile!);
    await waitUntilAccepted(target.dcrBaseUrl, newKey, keyFile!, options, fail, 'Konnect was not changed; the key is in the file');
    add({ group: 'api key', name: 'bridge accepts the new key', result: 'pass', detail: fingerprint(newKey) });
  }

  // 4. Konnect: whose token, then what it holds.
  const client = createKonnectClient({ token: token!, ...urls, timeoutMs, sleep: options.sleep });
  const organization = await client.organization();
  report.organization = organization.name ?? organization.id;
  add({
    group: 'konnect',
    name: 'token',
    result: 'pass',
    detail: `accepted; organization ${report.organization ?? '(unnamed)'}, ${urls.regionalUrl}`,
  });

  if (command === 'rotate-key') return rotateKey(client, target, config, options, report, add, fail);

  const provider = await findOne<Provider>(client, '/dcr-providers', target.providerName, 'provider', fail);
  if (!provider && !target.apiKey && command === 'setup') target.apiKey = config.apiKeys.at(-1);
  const providerChange = diffProvider(provider, target, fail);
  const strategy = await findOne<Strategy>(client, '/application-auth-strategies', target.strategyName, 'strategy', fail);
  const strategyChange = diffStrategy(strategy, provider, target, fail);

  if (command === 'status') {
    report.provider.id = provider?.id;
    report.strategy = { id: strategy?.id, name: target.strategyName, active: strategy?.active };
    statusChecks(providerChange, provider, strategyChange, strategy, add);
    if (options.verify && provider) await verify(client, provider.id, report, add);
    else
      add({
        group: 'verify',
        name: 'verify',
        result: 'skip',
        detail: 'not run (--verify runs it: a real create and delete through the bridge)',
      });
    nextSteps(report, strategy?.active);
    return;
  }

  report.changes.push(providerChange.change, strategyChange.change);
  if (options.dryRun) {
    report.provider.id = provider?.id;
    report.strategy.id = strategy?.id;
    add({ group: 'verify', name: 'verify', result: 'skip', detail: '--dry-run: nothing was changed in Konnect' });
    return;
  }
  let providerId = provider?.id;
  if (!provider) providerId = (await client.v2<Provider>('POST', '/dcr-providers', providerChange.body)).id;
  else if (providerChange.body) await client.v2('PATCH', `/dcr-providers/${provider.id}`, providerChange.body);
  report.provider.id = providerId;
  let active = strategy?.active;
  if (!strategy) {
    const created = await client.v2<Strategy>('POST', '/application-auth-strategies', {
      ...strategyChange.body,
      dcr_provider_id: providerId,
    });
    report.strategy.id = created.id;
    active = created.active;
  } else {
    if (strategyChange.body)
      await client.v2('PATCH', `/application-auth-strategies/${strategy.id}`, {
        ...strategyChange.body,
        ...(strategy.dcr_provider?.id === providerId ? {} : { dcr_provider_id: providerId }),
      });
    report.strategy.id = strategy.id;
  }
  report.strategy.active = active;
  add({
    group: 'provider',
    name: target.providerName,
    result: 'pass',
    detail: `${providerChange.change.action === 'unchanged' ? 'unchanged' : `${providerChange.change.action}d`}; id ${providerId}`,
  });
  add({
    group: 'strategy',
    name: target.strategyName,
    result: 'pass',
    detail: `${strategyChange.change.action === 'unchanged' ? 'unchanged' : `${strategyChange.change.action}d`}; id ${report.strategy.id}`,
  });
  await verify(client, providerId!, report, add);
  nextSteps(report, active);
}

/** The desired state from the bridge's configuration, the adapter and the KONNECT_* names. */
async function resolveTarget(
  config: ServerConfig,
  options: KonnectOptions,
  add: (check: KonnectCheck) => void,
  timeoutMs: number,
): Promise<KonnectTarget> {
  const env = options.env;
  const problem = (name: string, detail: string, fix?: string): never => {
    add({ group: 'configuration', name, result: 'fail', detail, ...(fix ? { fix } : {}) });
    throw new Failed();
  };
  if (!config.adapter)
    problem('adapter', 'DCR_BRIDGE_ADAPTER is not set: dev mode is not for Konnect', 'configure the adapter the deployed bridge runs with');
  if (!config.publicUrl)
    problem(
      'DCR_BRIDGE_PUBLIC_URL',
      'not set',
      'set DCR_BRIDGE_PUBLIC_URL to where Konnect reaches the bridge, e.g. https://dcr.example.com (DCR_BRIDGE_BASE_PATH is added)',
    );
  const base = config.basePath.replace(/^\/?/, '/').replace(/\/+$/, '');
  const dcrBaseUrl = `${config.publicUrl!.replace(/\/+$/, '')}${base}`;
  if (dcrBaseUrl.length > 256) problem('dcr_base_url', `${dcrBaseUrl.length} characters; Konnect takes at most 256`);
  add({ group: 'configuration', name: 'dcr_base_url', result: 'pass', detail: dcrBaseUrl });
  if (!dcrBaseUrl.startsWith('https:'))
    add({
      group: 'configuration',
      name: 'transport',
      result: 'warn',
      detail: 'the bridge is published over plain http: the API key travels in clear',
      fix: 'publish the bridge behind TLS (an https DCR_BRIDGE_PUBLIC_URL)',
    });

  let capabilities: DcrAdapter['capabilities'] | undefined;
  let issuer = config.issuer;
  try {
    const opened = await options.openAdapter(config);
    try {
      capabilities = opened.adapter.capabilities;
      if (!issuer && opened.adapter.diagnostics) {
        const tokenEndpoint = await opened.adapter.diagnostics.tokenEndpoint(context(timeoutMs));
        issuer = await discoverIssuer(tokenEndpoint, timeoutMs);
        if (issuer)
          add({
            group: 'configuration',
            name: 'issuer',
            result: 'pass',
            detail: `${issuer} (discovered from the token endpoint ${redactText(tokenEndpoint)})`,
          });
      }
    } finally {
      await opened.close();
    }
  } catch (error) {
    add({ group: 'configuration', name: 'adapter', result: 'warn', detail: `could not be opened here: ${messageOf(error)}` });
  }
  if (!issuer)
    problem(
      'issuer',
      `the ${config.adapter!.module.id} adapter's issuer could not be found (no OpenID discovery document beside its token endpoint)`,
      "set DCR_BRIDGE_ISSUER to the IdP's issuer (the iss of its access tokens)",
    );
  else if (config.issuer) add({ group: 'configuration', name: 'issuer', result: 'pass', detail: `${issuer} (DCR_BRIDGE_ISSUER)` });

  const list = (name: string, fallback: string[]) => {
    const value = env[name]?.trim();
    return value
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : fallback;
  };
  const adapterId = config.adapter!.module.id;
  return {
    providerName: env.KONNECT_DCR_PROVIDER_NAME?.trim() || 'dcr-bridge',
    strategyName: env.KONNECT_AUTH_STRATEGY_NAME?.trim() || 'dcr-bridge',
    strategyDisplayName: env.KONNECT_AUTH_STRATEGY_DISPLAY_NAME?.trim() || 'Client credentials',
    dcrBaseUrl,
    issuer: issuer!,
    disableRefreshSecret: capabilities ? !capabilities.rotateSecret : false,
    disableEventHooks: false,
    scopes: list('KONNECT_SCOPES', ['openid']),
    credentialClaim: list('KONNECT_CREDENTIAL_CLAIM', [CREDENTIAL_CLAIMS[adapterId] ?? 'client_id']),
    authMethods: list('KONNECT_AUTH_METHODS', ['client_credentials', 'bearer']),
  };
}

/** The issuer whose OpenID discovery document names this token endpoint, looked for up the endpoint's path. */
export async function discoverIssuer(tokenEndpoint: string, timeoutMs: number): Promise<string | undefined> {
  const url = new URL(tokenEndpoint);
  const segments = url.pathname.split('/').filter(Boolean);
  for (let keep = segments.length - 1; keep >= 0 && keep >= segments.length - 6; keep--) {
    const base = `${url.origin}${segments
      .slice(0, keep)
      .map((segment) => `/${segment}`)
      .join('')}`;
    try {
      const res = await fetch(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      if (!res.ok) {
        await res.body?.cancel();
        continue;
      }
      const document = (await res.json()) as { issuer?: unknown; token_endpoint?: unknown };
      if (document.token_endpoint === tokenEndpoint && typeof document.issuer === 'string') return document.issuer;
    } catch {
      // not there: one level up
    }
  }
  return undefined;
}

async function findOne<T extends { name: string; id: string }>(
  client: KonnectClient,
  path: string,
  name: string,
  what: 'provider' | 'strategy',
  fail: (group: CheckGroup, name: string, detail: string, fix?: string) => never,
): Promise<T | undefined> {
  const found = (await client.list<T>(path)).filter((item) => item.name === name);
  if (found.length > 1)
    fail(
      what,
      name,
      `${found.length} ${what === 'provider' ? 'DCR providers' : 'auth strategies'} are named "${name}" (${found.map((item) => item.id).join(', ')})`,
      `delete the extra ones in Konnect, or choose another ${what === 'provider' ? 'KONNECT_DCR_PROVIDER_NAME' : 'KONNECT_AUTH_STRATEGY_NAME'}`,
    );
  return found[0];
}

const show = (value: unknown) => JSON.stringify(value ?? null);
const sameList = (a: string[] | undefined, b: string[]) => JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());

interface Diff {
  change: KonnectChange;
  /** The create body, or the PATCH body with the changed fields only; undefined when nothing changes. */
  body?: Record<string, unknown>;
}

function diffProvider(
  provider: Provider | undefined,
  target: KonnectTarget,
  fail: (group: CheckGroup, name: string, detail: string, fix?: string) => never,
): Diff {
  const key = target.apiKey;
  const dcrConfig = {
    dcr_base_url: target.dcrBaseUrl,
    disable_event_hooks: target.disableEventHooks,
    disable_refresh_secret: target.disableRefreshSecret,
  };
  if (!provider) {
    if (!key) throw new Error('no API key to give Konnect');
    return {
      change: {
        object: 'provider',
        name: target.providerName,
        action: 'create',
        fields: [
          `provider_type: "http"`,
          `issuer: ${show(target.issuer)}`,
          ...Object.entries(dcrConfig).map(([name, value]) => `dcr_config.${name}: ${show(value)}`),
          `dcr_config.api_key: ${fingerprint(key)}`,
        ],
      },
      body: {
        name: target.providerName,
        provider_type: 'http',
        issuer: target.issuer,
        dcr_config: { ...dcrConfig, api_key: key },
        labels: LABELS,
      },
    };
  }
  if (provider.provider_type !== 'http')
    fail(
      'provider',
      target.providerName,
      `the DCR provider of that name is of type ${provider.provider_type}, not http`,
      'choose another KONNECT_DCR_PROVIDER_NAME (a provider type cannot be changed)',
    );
  const fields: string[] = [];
  const body: Record<string, unknown> = {};
  const config: Record<string, unknown> = {};
  if (provider.issuer !== target.issuer) {
    fields.push(`issuer: ${show(provider.issuer)} → ${show(target.issuer)}`);
    body.issuer = target.issuer;
  }
  const current = provider.dcr_config ?? {};
  for (const [name, value] of Object.entries(dcrConfig)) {
    const had = current[name as keyof typeof current] ?? (typeof value === 'boolean' ? false : undefined);
    if (had !== value) {
      fields.push(`dcr_config.${name}: ${show(had)} → ${show(value)}`);
      config[name] = value;
    }
  }
  if (key) {
    fields.push(`dcr_config.api_key: → ${fingerprint(key)}`);
    config.api_key = key;
  }
  if (Object.keys(config).length > 0) body.dcr_config = config;
  return {
    change: { object: 'provider', name: target.providerName, action: fields.length > 0 ? 'update' : 'unchanged', fields },
    ...(fields.length > 0 ? { body } : {}),
  };
}

function diffStrategy(
  strategy: Strategy | undefined,
  provider: Provider | undefined,
  target: KonnectTarget,
  fail: (group: CheckGroup, name: string, detail: string, fix?: string) => never,
): Diff {
  const oidc = { issuer: target.issuer, credential_claim: target.credentialClaim, scopes: target.scopes, auth_methods: target.authMethods };
  if (!strategy)
    return {
      change: {
        object: 'strategy',
        name: target.strategyName,
        action: 'create',
        fields: [
          `strategy_type: "openid_connect"`,
          `display_name: ${show(target.strategyDisplayName)}`,
          ...Object.entries(oidc).map(([name, value]) => `configs.openid-connect.${name}: ${show(value)}`),
          `dcr_provider: ${target.providerName}`,
        ],
      },
      body: {
        name: target.strategyName,
        display_name: target.strategyDisplayName,
        strategy_type: 'openid_connect',
        configs: { 'openid-connect': oidc },
        labels: LABELS,
      },
    };
  if (strategy.strategy_type !== 'openid_connect')
    fail(
      'strategy',
      target.strategyName,
      `the auth strategy of that name is of type ${strategy.strategy_type}, not openid_connect`,
      'choose another KONNECT_AUTH_STRATEGY_NAME',
    );
  const fields: string[] = [];
  const body: Record<string, unknown> = {};
  if (strategy.display_name !== target.strategyDisplayName) {
    fields.push(`display_name: ${show(strategy.display_name)} → ${show(target.strategyDisplayName)}`);
    body.display_name = target.strategyDisplayName;
  }
  const current = strategy.configs?.['openid-connect'] ?? {};
  let configChanged = false;
  for (const [name, value] of Object.entries(oidc)) {
    const had = current[name as keyof typeof current];
    const same = Array.isArray(value) ? sameList(had as string[] | undefined, value) : had === value;
    if (!same) {
      fields.push(`configs.openid-connect.${name}: ${show(had)} → ${show(value)}`);
      configChanged = true;
    }
  }
  if (configChanged) body.configs = { 'openid-connect': oidc };
  if (!provider || strategy.dcr_provider?.id !== provider.id) {
    fields.push(`dcr_provider: ${show(strategy.dcr_provider?.name ?? null)} → ${show(target.providerName)}`);
    body.dcr_provider_id = provider?.id ?? null;
  }
  return {
    change: { object: 'strategy', name: target.strategyName, action: fields.length > 0 ? 'update' : 'unchanged', fields },
    ...(fields.length > 0 ? { body } : {}),
  };
}

function statusChecks(
  providerDiff: Diff,
  provider: Provider | undefined,
  strategyDiff: Diff,
  strategy: Strategy | undefined,
  add: (check: KonnectCheck) => void,
): void {
  const fix = 'run dcr-bridge konnect setup (or change it back in Konnect)';
  const report = (group: 'provider' | 'strategy', diff: Diff, found: { id: string } | undefined) => {
    if (!found) add({ group, name: diff.change.name, result: 'fail', detail: 'not in Konnect', fix: 'run dcr-bridge konnect setup' });
    else if (diff.change.fields.length === 0)
      add({ group, name: diff.change.name, result: 'pass', detail: `as configured; id ${found.id}` });
    else for (const field of diff.change.fields) add({ group, name: diff.change.name, result: 'fail', detail: `drifted: ${field}`, fix });
  };
  report('provider', providerDiff, provider);
  report('strategy', strategyDiff, strategy);
  if (provider)
    add({
      group: 'provider',
      name: 'api_key',
      result: 'skip',
      detail: 'write-only in Konnect: --verify proves the key Konnect holds is one the bridge accepts',
    });
  if (strategy && strategy.active === false)
    add({
      group: 'strategy',
      name: 'in use',
      result: 'warn',
      detail: 'no published API uses this auth strategy yet',
      fix: `attach auth strategy ${strategy.id} to an API published in a Dev Portal`,
    });
}

async function verify(client: KonnectClient, providerId: string, report: KonnectReport, add: (check: KonnectCheck) => void) {
  const answer = await client.v2<{ status: string; errors: string[] }>('POST', `/dcr-providers/${providerId}/verify`);
  report.verify = { status: answer.status, errors: (answer.errors ?? []).map((error) => redactText(error)) };
  if (answer.status === 'success') add({ group: 'verify', name: 'verify', result: 'pass', detail: "Konnect's verify succeeded" });
  else
    add({
      group: 'verify',
      name: 'verify',
      result: 'fail',
      detail: `Konnect's verify failed: ${report.verify.errors.join('; ') || 'no reason given'}`,
      fix: 'check that Konnect reaches DCR_BRIDGE_PUBLIC_URL and that its key is one the bridge accepts (dcr-bridge doctor checks the IdP side)',
    });
}

function nextSteps(report: KonnectReport, active: boolean | undefined): void {
  const strategy = report.strategy;
  if (!strategy?.id) return;
  if (active) report.next.push(`Auth strategy ${strategy.name} (${strategy.id}) is in use by a published API; nothing is left to do.`);
  else
    report.next.push(
      `Attach auth strategy ${strategy.name} (${strategy.id}) to an API: in Konnect, Dev Portal → your portal → APIs (publish or edit the API's publication) → Authentication strategy → ${strategy.name}; or make it the portal's default application auth strategy.`,
      `Its DCR provider is ${report.provider?.name} (${report.provider?.id}); applications that developers create with this strategy get their credentials from the bridge at ${report.provider?.dcrBaseUrl}.`,
    );
}

/**
 * rotate-key: the new key is added to the key file (and deployed by `sync`), the bridge is seen to accept it,
 * Konnect gets it, verify passes, then the old keys leave the file (and `sync` again). Konnect's key is accepted
 * by every replica at every moment: the bridge holds both keys from before Konnect switches until after.
 */
async function rotateKey(
  client: KonnectClient,
  target: KonnectTarget,
  config: ServerConfig,
  options: KonnectOptions,
  report: KonnectReport,
  add: (check: KonnectCheck) => void,
  fail: (group: CheckGroup, name: string, detail: string, fix?: string) => never,
): Promise<void> {
  const keyFile = options.keyFile ?? config.apiKeysFile;
  if (!keyFile)
    return fail('api key', 'key file', '--key-file <file> is required: the file the bridge reads its keys from (DCR_BRIDGE_API_KEYS_FILE)');
  const oldKeys = readKeyFile(keyFile);
  if (oldKeys.length === 0)
    fail('api key', 'key file', `${keyFile} holds no key`, 'run dcr-bridge konnect setup --new-key --key-file <file> first');
  const provider = await findOne<Provider>(client, '/dcr-providers', target.providerName, 'provider', fail);
  if (!provider) return fail('provider', target.providerName, 'not in Konnect', 'run dcr-bridge konnect setup first');
  report.provider = { id: provider.id, name: provider.name, dcrBaseUrl: target.dcrBaseUrl };
  const newKey = generateApiKey();
  const steps: KonnectChange[] = [
    { object: 'key file', name: keyFile, action: 'write', fields: [`add key ${fingerprint(newKey)}`] },
    { object: 'provider', name: provider.name, action: 'update', fields: [`dcr_config.api_key: → ${fingerprint(newKey)}`] },
    { object: 'key file', name: keyFile, action: 'write', fields: oldKeys.map((key) => `remove key ${fingerprint(key)}`) },
  ];
  report.changes.push(...steps);
  if (options.dryRun) {
    add({ group: 'api key', name: 'rotation', result: 'skip', detail: '--dry-run: nothing was changed' });
    return;
  }

  writeKeyFile(keyFile, [...oldKeys, newKey]);
  await options.sync?.(keyFile);
  await waitUntilAccepted(target.dcrBaseUrl, newKey, keyFile, options, fail, 'Konnect still has the old key, and the file holds both');
  add({ group: 'api key', name: 'bridge accepts the new key', result: 'pass', detail: `${fingerprint(newKey)} at ${target.dcrBaseUrl}` });

  await client.v2('PATCH', `/dcr-providers/${provider.id}`, { dcr_config: { api_key: newKey } });
  add({ group: 'provider', name: provider.name, result: 'pass', detail: `Konnect now sends ${fingerprint(newKey)}` });
  await verify(client, provider.id, report, add);
  if (report.verify?.status !== 'success') {
    add({
      group: 'api key',
      name: 'old key kept',
      result: 'warn',
      detail: `${keyFile} keeps both keys, as verify failed`,
      fix: `once verify passes, keep only the last key in ${keyFile} (${fingerprint(newKey)})`,
    });
    return;
  }
  writeKeyFile(keyFile, [newKey]);
  await options.sync?.(keyFile);
  add({ group: 'api key', name: 'old key dropped', result: 'pass', detail: `${keyFile} holds ${fingerprint(newKey)} only` });
}

/**
 * Waits until the bridge accepts `key` several times in a row (replicas behind a load balancer are then likely
 * all seen): the key file must have reached them (a Secret updated and the replicas restarted: `--sync`).
 */
async function waitUntilAccepted(
  dcrBaseUrl: string,
  key: string,
  keyFile: string,
  options: KonnectOptions,
  fail: (group: CheckGroup, name: string, detail: string, fix?: string) => never,
  state: string,
): Promise<void> {
  const waitMs = options.waitMs ?? 300_000;
  const deadline = Date.now() + waitMs;
  for (let inARow = 0; inARow < 5;) {
    const accepted = await bridgeAcceptsKey(dcrBaseUrl, key, options.timeoutMs ?? 10_000);
    inARow = accepted ? inARow + 1 : 0;
    if (inARow >= 5) return;
    if (Date.now() > deadline)
      fail(
        'api key',
        'bridge accepts the new key',
        `${dcrBaseUrl} did not accept key ${fingerprint(key)} within ${Math.round(waitMs / 1000)} s; ${state}`,
        `deploy ${keyFile} to every replica (DCR_BRIDGE_API_KEYS_FILE is read at start: update the Secret, then kubectl rollout restart), or pass --sync; then run the command again`,
      );
    await new Promise((resolve) => setTimeout(resolve, accepted ? 100 : 1000));
  }
}
