import { existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import {
  JOURNAL_PREFIX,
  ROTATION_PREFIX,
  type LifecycleSettings,
  createEncryptedStore,
  createJsonStore,
  createMemoryDriver,
  type DcrAdapter,
  type Logger,
  type StateStore,
  type StoreDriver,
} from '@dcr-bridge/core';
import { answerClientError, completionBudgetMs, createBridgeApp } from '@dcr-bridge/core/http';
import type { ServerConfig } from './config.js';
import { createDevIdp, DEV_IDP_PATH } from './dev-idp.js';
import { devModeBanner } from './banner.js';
import { openJournalFile } from './journal-file.js';
import { startCanary, type Canary } from './canary.js';
import type { BridgeMetrics } from './metrics.js';
import { createProcessLogger } from './logger.js';

/**
 * config → adapter → Express app → listening HTTP server. `bin.ts` adds the environment, the signals and
 * the exit codes; the composition itself (config → adapter → Express app) is `buildBridgeApp`, which the
 * AWS Lambda entry (`lambda.ts`) uses too.
 */
export interface RunningServer {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  server: Server;
  adapter: DcrAdapter;
  /** Set in dev mode. */
  devIdp?: { issuer: string };
  /** Stops accepting, lets in-flight requests finish (bounded), closes the adapter and the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Where the dev mode banner goes. Default stderr. */
  printBanner?: (text: string) => void;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createProcessLogger({ level: config.logLevel });
  let draining = false;
  // Listen first: the dev IdP's issuer needs the real port (PORT may be 0). Until the app is built, every
  // request is answered 503.
  let bridge: BridgeApp | undefined;
  const server = createServer((req, res) => {
    // While draining, an answer closes its connection: Konnect's keep-alive connections must not hold the stop.
    if (draining) res.shouldKeepAlive = false;
    return bridge ? bridge.app(req, res) : answerStarting(res);
  });
  server.on('clientError', answerClientError);
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  // Above the usual load-balancer idle timeouts (60 s), so the balancer closes idle connections first.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const localHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`;

  let metricsServer: Server | undefined;
  try {
    bridge = await buildBridgeApp(config, { logger, isDraining: () => draining, devModeUrl: url });
    // Prometheus metrics on a port of their own (DCR_BRIDGE_METRICS_PORT), without the API key.
    if (bridge.metrics && config.metrics.where === 'port')
      metricsServer = await (await import('./metrics.js')).listenForMetrics(bridge.metrics, config.host, config.metrics.port);
  } catch (error) {
    server.close();
    await bridge?.close();
    throw error;
  }
  const built = bridge;

  if (built.devIdp) {
    (options.printBanner ?? ((text) => process.stderr.write(text)))(
      devModeBanner({
        url,
        apiKey: config.apiKeys[0] as string,
        generatedApiKey: config.generatedApiKey,
        basePath: config.basePath,
        issuer: built.devIdp.issuer,
      }),
    );
  }
  logger.info('listening', {
    url,
    port,
    host: config.host,
    adapter: built.adapter.id,
    basePath: config.basePath,
    devMode: built.devIdp !== undefined,
    // How a rotation Konnect did not get keeps its secret working: two-secrets, restore or replace (see core).
    rotation: built.adapter.rotation?.mode,
    rotationOverlapMs: built.adapter.rotation?.overlapMs,
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      logger.info('shutting down', { graceMs: config.shutdownTimeoutMs, closeLimitMs: CLOSE_LIMIT_MS });
      await stopAccepting(server, config.shutdownTimeoutMs, logger);
      // A scrape holds no Konnect answer: the metrics port closes at once, keep-alive connections included.
      const metricsClosed = metricsServer && stopAccepting(metricsServer, 0, logger);
      // Every Konnect answer has left. What remains is the IdP's: background work (recovery, cleanup) and IdP
      // calls still going on after their answer are aborted by the adapter's close; whatever has not ended by
      // the limit (a hung socket, a store that does not answer) is abandoned. The journal was written before
      // each IdP call, so the next start finishes that work, as after a crash.
      if (!(await settlesWithin(built.close(), CLOSE_LIMIT_MS)))
        logger.warn('the adapter did not close in time: stopping anyway; the next start finishes what was under way (journal)', {
          closeLimitMs: CLOSE_LIMIT_MS,
        });
      await metricsClosed;
      logger.info('stopped');
    })();
    return closing;
  };
  return { url, port, server, adapter: built.adapter, devIdp: built.devIdp, close };
}

/** The Express app of the bridge, with what it holds open. */
export interface BridgeApp {
  /** The whole app: `/metrics` (when on the main port), the dev IdP (dev mode), then core's DCR API. */
  app: Express;
  adapter: DcrAdapter;
  /** Set in dev mode. */
  devIdp?: { issuer: string };
  /** Set when metrics are on; served at `/metrics` by `app` when on the main port. */
  metrics?: BridgeMetrics;
  /** Closes the adapter, waits for the background recovery, closes the store, the journal and the metrics. */
  close(): Promise<void>;
}

export interface BuildOptions {
  logger: Logger;
  /** While true, /readyz answers 503 (the server is draining). */
  isDraining?: () => boolean;
  /** Dev mode only: the URL the app is served at, under which the dev IdP's issuer lives. */
  devModeUrl?: string;
  /**
   * Set where a store file cannot work (AWS Lambda: each instance has its own /tmp, lost with it): an adapter
   * that keeps per-client state then fails to start with this message instead of opening the file.
   */
  storeFileRefusal?: string;
}

/**
 * config → adapter → Express app, the one composition of the process's objects: the adapter with its
 * stores (`openAdapter`; the dev mode's in memory), core's app, metrics. Recovery of the creates a previous
 * process left open starts in the background: nothing waits for it.
 */
export async function buildBridgeApp(config: ServerConfig, options: BuildOptions): Promise<BridgeApp> {
  const { logger } = options;
  const app = express();
  app.disable('x-powered-by');
  // Prometheus metrics, without the API key: on the main port, on one of their own (the caller serves them), or
  // not at all (prom-client is then never loaded: the default on AWS Lambda, where every cold start pays for it).
  const metrics = config.metrics.where === 'off' ? undefined : (await import('./metrics.js')).createMetrics();
  if (metrics && config.metrics.where === 'main') app.get('/metrics', (req, res) => metrics.handler(req, res));

  let opened: OpenedAdapter | undefined;
  let devIdp: BridgeApp['devIdp'];
  let canary: Canary | undefined;
  try {
    if (config.adapter) {
      opened = await openAdapter(config, options);
    } else {
      if (options.devModeUrl === undefined)
        throw new Error('Dev mode serves its IdP beside the bridge and needs the URL it listens at: set DCR_BRIDGE_ADAPTER.');
      const idp = await createDevIdp(`${options.devModeUrl}${DEV_IDP_PATH}`);
      app.use(DEV_IDP_PATH, idp.handler);
      const driver = createMemoryDriver();
      const store = createEncryptedStore({ driver, keys: [new Uint8Array(randomBytes(32))] });
      const { createRfc7591Adapter } = await import('@dcr-bridge/adapter-rfc7591');
      const adapter = createRfc7591Adapter({
        issuer: idp.issuer,
        initialAccessToken: idp.initialAccessToken,
        store,
        journal: createJsonStore(driver),
        allowInsecureHttp: true,
        logger: logger.child({ adapter: 'rfc7591' }),
      });
      opened = { adapter, close: async () => void (await adapter.close?.()) };
      devIdp = { issuer: idp.issuer };
    }
    app.use(
      createBridgeApp({
        adapter: config.canary.readiness ? withCanaryReadiness(opened.adapter, () => canary?.failing()) : opened.adapter,
        apiKeys: config.apiKeys,
        basePath: config.basePath,
        logger,
        operationTimeoutMs: config.operationTimeoutMs,
        completionTimeoutMs: config.completionTimeoutMs,
        isDraining: options.isDraining,
      }),
    );
  } catch (error) {
    metrics?.close();
    await opened?.close();
    throw error;
  }
  const { adapter } = opened;
  if (adapter.rotation?.mode === 'restore' && config.adapter && config.storeKeys.length === 0)
    logger.warn(
      `without DCR_BRIDGE_STORE_KEY, the secret Konnect holds is kept in memory during a rotation: a rotation Konnect does not get is put back, but not one under way when the process dies. Set DCR_BRIDGE_STORE_KEY so that the ${adapter.id} adapter can put it back after a crash too.`,
    );

  // Creates a previous process left open (it crashed or was killed mid-create) are finished in the
  // background: Konnect never got those credentials, so the clients are found and deleted. A create may be under way
  // (at this process or, with a shared journal, at a live replica) for the whole completion budget, which is never
  // shorter than the operation timeout: recovery leaves it alone until then.
  const inFlightMs = completionBudgetMs(config.operationTimeoutMs, config.completionTimeoutMs);
  const recovered = (adapter.recover?.({ inFlightMs }) ?? Promise.resolve(undefined)).then(
    (report) => {
      if (report && (report.open > 0 || report.rotations > 0))
        logger.info('recovered the creates a previous process left open', { ...report });
    },
    (error: unknown) =>
      logger.error('could not recover the creates a previous process left open; they are retried at the next start', { error }),
  );

  if (config.canary.intervalMs > 0 && opened.journal) {
    canary = startCanary({
      adapter,
      intervalMs: config.canary.intervalMs,
      scopes: config.canary.scopes,
      timeoutMs: config.completionTimeoutMs,
      logger: logger.child({ component: 'canary' }),
      journal: await opened.journal(),
      onResult: (ok, at) => metrics?.recordCanary(ok, at),
    });
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      canary?.stop();
      await opened.close({ before: () => recovered });
      metrics?.close();
    })();
    return closing;
  };
  return { app, adapter, devIdp, metrics, close };
}

/** With DCR_BRIDGE_CANARY_READINESS: not ready (`canary_failing`) while the canary's last run failed. */
function withCanaryReadiness(adapter: DcrAdapter, failing: () => boolean | undefined): DcrAdapter {
  return {
    ...adapter,
    checkReady: async (context) =>
      failing()
        ? { ready: false, reason: 'canary_failing', detail: 'the last canary run failed (see the canary log line)' }
        : adapter.checkReady(context),
  };
}

/** The configured adapter and what it opened. */
export interface OpenedAdapter {
  adapter: DcrAdapter;
  /** The lifecycle's journal (opened on first call): the canary records its last run there. */
  journal?: () => Promise<StateStore>;
  /** Closes the adapter, then (after `before`, if given) the store and the journal. */
  close(options?: { before?: () => Promise<void> }): Promise<void>;
}

/**
 * The configured adapter (config.adapter) with its stores, each opened on the adapter's first use: the
 * encrypted per-client store (adapters that keep state) and the lifecycle's create journal (every adapter).
 * With a store file (SQLite, one process) the journal is a file of its own; with PostgreSQL both live in the
 * database, so that the replicas share the journal and its locks (see core's lifecycle).
 */
export interface OpenAdapterOptions extends Pick<BuildOptions, 'logger' | 'storeFileRefusal'> {
  /**
   * False for `dcr-bridge doctor`: with a store file, the create journal is kept in memory instead of the
   * journal file, which a running server owns. Default true.
   */
  journalFile?: boolean;
}

export async function openAdapter(config: ServerConfig, options: OpenAdapterOptions): Promise<OpenedAdapter> {
  const chosen = config.adapter;
  if (!chosen) throw new Error('DCR_BRIDGE_ADAPTER is not set: there is no adapter to open.');
  const { store: location } = config;
  const opened: StoreDriver[] = [];
  const once = (open: () => Promise<StoreDriver>) => {
    let opening: Promise<StoreDriver> | undefined;
    return () => (opening ??= open().then((driver) => (opened.push(driver), driver)));
  };
  const storeDriver = once(() => openStoreDriver(location, options.logger));
  const journalDriver =
    location.kind === 'postgres'
      ? storeDriver
      : once(async () => (options.journalFile === false ? createMemoryDriver() : openJournalFile(config.journalPath)));
  const openStore = async () => {
    if (options.storeFileRefusal !== undefined) throw new Error(options.storeFileRefusal);
    const driver = await storeDriver();
    const store = createEncryptedStore({ driver, keys: requireStoreKeys(config) });
    await assertKeysOpen(store, driver, location.kind === 'file' ? location.path : location.description);
    return store;
  };
  const openJournal = async () => createJsonStore(await journalDriver());
  // The vault keeps a rotation's old secret for its lifetime (restore), sealed with the store key, beside the
  // journal; without a store key it stays in memory (a crash mid-rotation cannot put it back: logged at start).
  const openLifecycle = async (): Promise<LifecycleSettings> => {
    const journal = await openJournal();
    const vault = config.storeKeys.length > 0 ? createEncryptedStore({ driver: await journalDriver(), keys: config.storeKeys }) : undefined;
    return { journal, vault, rotationOverlapMs: config.rotationOverlapMs };
  };
  const closeStores = async () => {
    for (const driver of opened) await driver.close();
  };
  // Files this start creates: a refused start removes them again, so that it leaves nothing behind.
  const files = [config.journalPath, ...(location.kind === 'file' ? [location.path] : [])].flatMap((file) => [file, `${file}.owner`]);
  const existedBefore = new Set(files.filter((file) => existsSync(file)));
  let adapter: DcrAdapter;
  try {
    adapter = await chosen.module.create(chosen.options, {
      logger: options.logger.child({ adapter: chosen.module.id }),
      openStore,
      openJournal,
      openLifecycle,
    });
  } catch (error) {
    await closeStores();
    for (const file of files) if (!existedBefore.has(file)) rmSync(file, { force: true });
    throw error;
  }
  return {
    adapter,
    journal: openJournal,
    async close({ before } = {}) {
      await adapter.close?.();
      await before?.();
      await closeStores();
    },
  };
}

function answerStarting(res: ServerResponse): void {
  res
    .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
    .end(JSON.stringify({ error: 'starting', error_description: 'The bridge is starting; try again in a moment.' }));
}

/**
 * How long the adapter may take to close once the last answer has left (see `close` above): with the logger's
 * last lines, the process ends within 2 s of its last Konnect answer, whatever the IdP does.
 */
export const CLOSE_LIMIT_MS = 1_000;

/** How often, while draining, connections whose last answer has left are closed. */
const IDLE_SWEEP_MS = 50;

/**
 * Stops accepting connections and gives in-flight requests a grace period. Each keep-alive connection is
 * closed as soon as it is idle, not at its keep-alive timeout: node closes the idle ones once, at close(),
 * and a connection whose answer leaves later would otherwise hold the stop for the whole grace period.
 */
async function stopAccepting(server: Server, graceMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  const timer = setTimeout(() => {
    if (graceMs > 0) logger.warn('grace period over: closing the remaining connections');
    server.closeAllConnections();
  }, graceMs);
  sweep.unref();
  timer.unref();
  await closed;
  clearInterval(sweep);
  clearTimeout(timer);
}

/** Whether `work` settled within `ms`; rejects when it failed in time (a later failure is dropped: the process is ending). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const settled = work.then(() => true);
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
    settled.catch(() => undefined);
  }
}

async function openStoreDriver(location: ServerConfig['store'], logger: Logger): Promise<StoreDriver> {
  if (location.kind === 'file') {
    const { createSqliteDriver } = await import('@dcr-bridge/store-sqlite');
    return createSqliteDriver({ path: location.path });
  }
  const { createPostgresDriver } = await import('@dcr-bridge/store-postgres');
  return createPostgresDriver({ url: location.url, caFile: location.caFile, logger: logger.child({ component: 'store-postgres' }) });
}

/**
 * A store key that does not open the records already stored (a key made anew at each start) would break every
 * later rotate and delete with a 500: refuse to start instead, saying what to do.
 */
async function assertKeysOpen(store: StateStore, driver: StoreDriver, where: string): Promise<void> {
  // A journal entry an older version kept in this file is plain JSON: only the encrypted records tell.
  const first = (await driver.list('')).find(([key]) => !key.startsWith(JOURNAL_PREFIX) && !key.startsWith(ROTATION_PREFIX));
  if (first === undefined) return;
  try {
    await store.get(first[0]);
  } catch {
    throw new Error(
      `DCR_BRIDGE_STORE_KEY does not open the records in ${where}: they were encrypted with another key. Set the key they were written with (to rotate, put the new key first and keep the old one: comma-separated, newest first).`,
    );
  }
}

function requireStoreKeys(config: ServerConfig): Uint8Array[] {
  if (config.storeKeys.length === 0) {
    throw new Error(
      `The ${config.adapter?.module.id} adapter keeps per-client state, encrypted at rest: set DCR_BRIDGE_STORE_KEY to 32 random bytes in base64 (make one with: openssl rand -base64 32).`,
    );
  }
  return config.storeKeys;
}
