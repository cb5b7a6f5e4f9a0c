import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createBridgeApp, createEncryptedStore, createJsonLogger, createMemoryDriver, type DcrAdapter, type Logger, type StateStore } from '@dcr-bridge/core';
import type { ServerConfig } from './config.js';
import { createDevIdp, DEV_IDP_PATH } from './dev-idp.js';
import { devModeBanner } from './banner.js';

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
  const logger = options.logger ?? createJsonLogger({ level: config.logLevel });
  let draining = false;
  let store: StateStore | undefined;
  let opening: Promise<StateStore> | undefined;
  const openStore = (): Promise<StateStore> => {
    opening ??= openStateStore(config).then((opened) => (store = opened));
    return opening;
  };

  // Listen first: the dev IdP's issuer needs the real port (PORT may be 0).
  const outer = express();
  outer.disable('x-powered-by');
  const server = createServer(outer);
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
      adapter = await config.adapter.module.create(config.adapter.options, { logger: logger.child({ adapter: config.adapter.module.id }), openStore });
    } else {
      const idp = await createDevIdp(`${url}${DEV_IDP_PATH}`);
      outer.use(DEV_IDP_PATH, idp.handler);
      store = createEncryptedStore({ driver: createMemoryDriver(), keys: [new Uint8Array(randomBytes(32))] });
      const { createRfc7591Adapter } = await import('@dcr-bridge/adapter-rfc7591');
      adapter = createRfc7591Adapter({ issuer: idp.issuer, initialAccessToken: idp.initialAccessToken, store, allowInsecureHttp: true, logger: logger.child({ adapter: 'rfc7591' }) });
      devIdp = { issuer: idp.issuer };
    }
    outer.use(
      createBridgeApp({
        adapter,
        apiKeys: config.apiKeys,
        basePath: config.basePath,
        logger,
        operationTimeoutMs: config.operationTimeoutMs,
        isDraining: () => draining,
      }),
    );
  } catch (error) {
    server.close();
    await store?.close();
    throw error;
  }

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
      await store?.close();
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

function openStateStore(config: ServerConfig): Promise<StateStore> {
  if (config.storeKeys.length === 0) {
    return Promise.reject(
      new Error(`The ${config.adapter?.module.id} adapter keeps per-client state, encrypted at rest: set DCR_BRIDGE_STORE_KEY to 32 random bytes in base64 (make one with: openssl rand -base64 32).`),
    );
  }
  return import('@dcr-bridge/store-sqlite').then(({ createSqliteDriver }) => createEncryptedStore({ driver: createSqliteDriver({ path: config.storePath }), keys: config.storeKeys }));
}
