import { randomBytes } from 'node:crypto';
import { silentLogger, type DcrAdapter, type Logger } from '@dcr-bridge/core';
import { answerClientError, createBridgeApp } from '@dcr-bridge/core/http';
import { listenOnLoopback } from './fake-kit.js';

/**
 * A bridge on 127.0.0.1 and a free port, called the way Konnect calls it. Used by the conformance
 * scenarios and by adapters' own tests.
 */
export interface BridgeHarness {
  /** e.g. http://127.0.0.1:41234/dcr */
  baseUrl: string;
  apiKey: string;
  /** Calls `{baseUrl}{path}` with the API key (unless `apiKey: null`) and JSON. */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; apiKey?: string | null; headers?: Record<string, string> },
  ): Promise<HarnessResponse>;
  close(): Promise<void>;
}

export interface HarnessResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function startBridge(
  adapter: DcrAdapter,
  options: { basePath?: string; logger?: Logger; operationTimeoutMs?: number; completionTimeoutMs?: number } = {},
): Promise<BridgeHarness> {
  const apiKey = randomBytes(24).toString('base64url').replace(/-/g, '_');
  const basePath = options.basePath ?? '/dcr';
  const app = createBridgeApp({
    adapter,
    apiKeys: [apiKey],
    basePath,
    logger: options.logger ?? silentLogger,
    operationTimeoutMs: options.operationTimeoutMs,
    completionTimeoutMs: options.completionTimeoutMs,
  });
  const server = await listenOnLoopback(app);
  server.server.on('clientError', answerClientError);
  const baseUrl = `${server.origin}${basePath === '/' ? '' : basePath}`;
  return {
    baseUrl,
    apiKey,
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      const key = callOptions.apiKey === undefined ? apiKey : callOptions.apiKey;
      if (key !== null) headers['x-api-key'] = key;
      if (callOptions.body !== undefined) headers['content-type'] ??= 'application/json';
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body:
          callOptions.body === undefined
            ? undefined
            : typeof callOptions.body === 'string'
              ? callOptions.body
              : JSON.stringify(callOptions.body),
      });
      const text = await response.text();
      let body: unknown;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      return { status: response.status, headers: response.headers, body };
    },
    close: server.close,
  };
}
