import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { JOURNAL_PREFIX, answerClientError, createBridgeApp, createEncryptedStore, createJsonStore, createMemoryDriver, type DcrAdapter, type Logger, type StateStore, type StoreDriver } from '@dcr-bridge/core';
import type { ServerConfig } from './config.js';
import { createDevIdp, DEV_IDP_PATH } from './dev-idp.js';
import { devModeBanner } from './banner.js';
import { openJournalFile } from './journal-file.js';
import { createMetrics, listenForMetrics } from './metrics.js';
import { createProcessLogger } from './logger.js';

/**
 * config → adapter → Express app → listening HTTP server. The only place that builds the process's
 * objects; `bin.ts` adds the environment, the signals and the exit codes.
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
  // The encrypted per-client state (adapters that keep one: the SQLite store file) and the lifecycle's
  // create journal (every adapter: an append-only file), each opened on first use; memory in dev mode.
  let driver: StoreDriver | undefined;
  let opening: Promise<StoreDriver> | undefined;
  const openDriver = (): Promise<StoreDriver> => {
    opening ??= openStoreDriver(config).then((opened) => (driver = opened));
    return opening;
  };
  let journal: StoreDriver | undefined;
  let journalOpening: Promise<StoreDriver> | undefined;
  const openStore = async () => {
    const opened = await openDriver();
    const store = createEncryptedStore({ driver: opened, keys: requireStoreKeys(config) });
    await assertKeysOpen(store, opened, config.storePath);
    return store;
  };
  const openJournal = async () => createJsonStore(await (journalOpening ??= openJournalFile(config.journalPath).then((opened) => (journal = opened))));

  // Listen first: the dev IdP's issuer needs the real port (PORT may be 0).
  const outer = express();
  outer.disable('x-powered-by');
  // Prometheus metrics, without the API key: on the main port, on one of their own, or not at all.
  const metrics = config.metrics.where === 'off' ? undefined : createMetrics();
  if (metrics && config.metrics.where === 'main') outer.get('/metrics', (req, res) => metrics.handler(req, res));
  const metricsServer = metrics && config.metrics.where === 'port' ? await listenForMetrics(metrics, config.host, config.metrics.port) : undefined;
  const server = createServer(outer);
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

  let adapter: DcrAdapter;
  let devIdp: RunningServer['devIdp'];
  try {
    if (config.adapter) {
      adapter = await config.adapter.module.create(config.adapter.options, { logger: logger.child({ adapter: config.adapter.module.id }), openStore, openJournal });
    } else {
      const idp = await createDevIdp(`${url}${DEV_IDP_PATH}`);
      outer.use(DEV_IDP_PATH, idp.handler);
      driver = createMemoryDriver();
      const store = createEncryptedStore({ driver, keys: [new Uint8Array(randomBytes(32))] });
      const { createRfc7591Adapter } = await import('@dcr-bridge/adapter-rfc7591');
      adapter = createRfc7591Adapter({ issuer: idp.issuer, initialAccessToken: idp.initialAccessToken, store, journal: createJsonStore(driver), allowInsecureHttp: true, logger: logger.child({ adapter: 'rfc7591' }) });
      devIdp = { issuer: idp.issuer };
    }
    outer.use(
      createBridgeApp({
        adapter,
        apiKeys: config.apiKeys,
        basePath: config.basePath,
        logger,
        operationTimeoutMs: config.operationTimeoutMs,
        completionTimeoutMs: config.completionTimeoutMs,
        isDraining: () => draining,
      }),
    );
  } catch (error) {
    server.close();
    metricsServer?.close();
    metrics?.close();
    await driver?.close();
    await journal?.close();
    throw error;
  }

  // Creates a previous process left open (it crashed or was killed mid-create) are finished in the
  // background: Konnect never got those credentials, so the clients are found and deleted.
  const recovered = (adapter.recover?.({ inFlightMs: config.completionTimeoutMs }) ?? Promise.resolve(undefined)).then(
    (report) => {
      if (report && report.open > 0) logger.info('recovered the creates a previous process left open', { ...report });
    },
    (error: unknown) => logger.error('could not recover the creates a previous process left open; they are retried at the next start', { error }),
  );

  if (devIdp) {
    (options.printBanner ?? ((text) => process.stderr.write(text)))(
      devModeBanner({ url, apiKey: config.apiKeys[0] as string, generatedApiKey: config.generatedApiKey, basePath: config.basePath, issuer: devIdp.issuer }),
    );
  }
  logger.info('listening', { url, port, host: config.host, adapter: adapter.id, basePath: config.basePath, devMode: devIdp !== undefined });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      logger.info('shutting down', { graceMs: config.shutdownTimeoutMs });
      await stopAccepting(server, config.shutdownTimeoutMs, logger);
      await adapter.close?.();
      await recovered;
      await driver?.close();
      await journal?.close();
      if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
      metrics?.close();
      logger.info('stopped');
    })();
    return closing;
  };
  return { url, port, server, adapter, devIdp, close };
}

/** Stops accepting connections, closes idle keep-alive ones, and gives in-flight requests a grace period. */
async function stopAccepting(server: Server, graceMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn('grace period over: closing the remaining connections');
    server.closeAllConnections();
  }, graceMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}

function openStoreDriver(config: ServerConfig): Promise<StoreDriver> {
  return import('@dcr-bridge/store-sqlite').then(({ createSqliteDriver }) => createSqliteDriver({ path: config.storePath }));
}

/**
 * A store key that does not open the records already stored (a key made anew at each start) would break every
 * later rotate and delete with a 500: refuse to start instead, saying what to do.
 */
async function assertKeysOpen(store: StateStore, driver: StoreDriver, path: string): Promise<void> {
  // A journal entry an older version kept in this file is plain JSON: only the encrypted records tell.
  const first = (await driver.list('')).find(([key]) => !key.startsWith(JOURNAL_PREFIX));
  if (first === undefined) return;
  try {
    await store.get(first[0]);
  } catch {
    throw new Error(
      `DCR_BRIDGE_STORE_KEY does not open the records in ${path}: they were encrypted with another key. Set the key they were written with (to rotate, put the new key first and keep the old one: comma-separated, newest first).`,
    );
  }
}

function requireStoreKeys(config: ServerConfig): Uint8Array[] {
  if (config.storeKeys.length === 0) {
    throw new Error(`The ${config.adapter?.module.id} adapter keeps per-client state, encrypted at rest: set DCR_BRIDGE_STORE_KEY to 32 random bytes in base64 (make one with: openssl rand -base64 32).`);
  }
  return config.storeKeys;
}
