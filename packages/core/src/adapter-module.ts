import type { Dispatcher } from 'undici';
import type { DcrAdapter } from './contract.js';
import type { Logger } from './logger.js';
import type { LifecycleSettings } from './lifecycle.js';
import type { StateStore } from './store.js';
import { readSettings, type SettingNames, type SettingsSchema } from './settings.js';

/**
 * How an adapter package plugs into the server. Every adapter package, ours or a third party's, exports
 * `dcrBridgeAdapter: AdapterModule` next to its factory; the server imports the package its configuration
 * chooses (a known id or a module specifier), reads the options its `settings` declare (every problem collected
 * and reported at once, at boot) and builds the adapter with `create`.
 *
 * The adapter package never reads `process.env`: it declares its settings (`defineAdapterSettings`: each one's
 * name under the adapter's prefix, type, required or default, secret or not, and its text in the configuration
 * reference) and the server reads them from the merged configuration (environment over file).
 */
export interface AdapterContext {
  logger: Logger;
  /** The bridge's encrypted state store, opened on first call (only adapters that keep state call it). */
  openStore(): Promise<StateStore>;
  /**
   * The journal of core's lifecycle (open creates; no secrets in it): pass it to `defineDcrAdapter`. The
   * server keeps it in the embedded store file, so creates under way at a crash are undone at the next start.
   */
  openJournal(): Promise<StateStore>;
  /**
   * Everything the lifecycle takes from the server, opened on first call: the journal, the vault (the
   * encrypted store when the server has store keys, else none: a rotation's old secret is then kept in memory
   * only) and the rotation overlap. Spread it into the adapter's options: `{ ...options, ...(await context.openLifecycle()) }`.
   */
  openLifecycle(): Promise<LifecycleSettings>;
}

export interface AdapterModule<Options = unknown> {
  /** The id the server's configuration chooses the adapter by, e.g. `keycloak`. */
  id: string;
  /**
   * True when the adapter keeps per-client state in the server's encrypted store (it calls `openStore`): the
   * server then requires store keys among the settings, so that their absence is listed with every other problem.
   */
  keepsState?: boolean;
  /** This adapter's settings, declared: what the server reads and checks, and what its README's reference shows. */
  settings: SettingsSchema<Options>;
  /** Builds the adapter from checked options. No network I/O here. */
  create(options: Options, context: AdapterContext): DcrAdapter | Promise<DcrAdapter>;
}

export function isAdapterModule(value: unknown): value is AdapterModule {
  const candidate = value as Partial<AdapterModule> | undefined;
  return (
    typeof candidate?.id === 'string' &&
    Array.isArray(candidate.settings?.entries) &&
    typeof candidate.settings.finish === 'function' &&
    typeof candidate.create === 'function'
  );
}

/** Reads an adapter's options from a plain map (tests, programmatic use); throws listing every problem. */
export function readAdapterOptions<Options>(module: AdapterModule<Options>, values: Record<string, string | undefined>): Options {
  const { options, problems } = readSettings(module.settings, values);
  if (problems.length > 0) throw new Error(`Invalid ${module.id} settings:\n- ${problems.join('\n- ')}`);
  return options;
}

/** The options every adapter's factory takes, beside its own; an adapter's options extend it. */
export interface CommonAdapterOptions extends LifecycleSettings {
  /**
   * Where IdP calls go (undici): a shared pool, a private CA's `Agent`, or undici's `MockAgent` in tests.
   * Default: a keep-alive pool of the adapter's own.
   */
  dispatcher?: Dispatcher;
  /** Where the adapter and core's lifecycle log (background cleanup, recovery). Default: silent. */
  logger?: Logger;
  /**
   * Ceiling of one request (one attempt) to the IdP; default 30 000 ms. The operation's budget (Konnect's
   * deadline, then the completion budget for work under way) usually ends a request first.
   */
  timeoutMs?: number;
  /**
   * The settings each option is read from (`settingNamesOf(settings)`, passed by the adapter's module.ts), so that
   * the doctor's checks name the setting to change (`KEYCLOAK_REALM`); without, they name the option (`realm`).
   */
  settingNames?: SettingNames;
}

/** An adapter's options as its settings read them: without what the server passes to `create` (logger, dispatcher, lifecycle). */
export type SettingsOptions<Options> = Omit<Options, 'logger' | 'dispatcher' | 'settingNames' | keyof LifecycleSettings>;
