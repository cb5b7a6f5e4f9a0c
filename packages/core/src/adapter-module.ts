import type { DcrAdapter } from './contract.js';
import type { Logger } from './logger.js';
import type { LifecycleSettings } from './lifecycle.js';
import type { StateStore } from './store.js';
import { createSettingsReader, type SettingsReader } from './settings.js';

/**
 * How an adapter package plugs into the server. Every adapter package, ours or a third party's, exports
 * `dcrBridgeAdapter: AdapterModule` next to its factory; the server imports the package its configuration
 * chooses (a known id or a module specifier), reads the options with `readOptions` (every problem collected
 * and reported at once, at boot) and builds the adapter with `create`.
 *
 * The adapter package never reads `process.env`: the server hands it a SettingsReader over the merged
 * configuration (environment over file). The adapter reads its own settings through
 * `settings.scoped(<its prefix>)`, and the settings every adapter has with `readSharedAdapterSettings`.
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
  /** Reads and checks this adapter's settings; records problems on the reader instead of throwing. */
  readOptions(settings: SettingsReader): Options;
  /** Builds the adapter from checked options. No network I/O here. */
  create(options: Options, context: AdapterContext): DcrAdapter | Promise<DcrAdapter>;
}

export function isAdapterModule(value: unknown): value is AdapterModule {
  const candidate = value as Partial<AdapterModule> | undefined;
  return typeof candidate?.id === 'string' && typeof candidate.readOptions === 'function' && typeof candidate.create === 'function';
}

/** Reads an adapter's options from a plain map (tests, programmatic use); throws listing every problem. */
export function readAdapterOptions<Options>(module: AdapterModule<Options>, values: Record<string, string | undefined>): Options {
  const settings = createSettingsReader(values);
  const options = module.readOptions(settings);
  if (settings.problems.length > 0) throw new Error(`Invalid ${module.id} settings:\n- ${settings.problems.join('\n- ')}`);
  return options;
}
