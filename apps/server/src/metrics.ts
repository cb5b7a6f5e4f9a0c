import { createServer, type RequestListener, type Server } from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  CHANNELS,
  type IdpCallMessage,
  type OperationMessage,
  type RequestMessage,
  type StoreMessage,
  type TokenMessage,
} from '@dcr-bridge/core/http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics through prom-client, from what core publishes on its diagnostics channels (see
 * @dcr-bridge/core, "Measurements"), plus Node's process metrics. Every label has a small, fixed set of
 * values: no client id, no Konnect id, no raw IdP path.
 */
export interface BridgeMetrics {
  /** Serves the text exposition format. */
  handler: RequestListener;
  /** A canary run's result (canary.ts). */
  recordCanary(ok: boolean, at: Date): void;
  close(): void;
}

const KONNECT_CALLS = [
  ['POST', '/'],
  ['DELETE', '/{clientId}'],
  ['POST', '/{clientId}/new-secret'],
  ['POST', '/{clientId}/event-hook'],
] as const;

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 9, 15, 30];

export function createMetrics(): BridgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'dcr_bridge_http_requests_total',
    help: "Every answer of the DCR API, those refused before the adapter too (401, 400, 404, 405, 413, 415), by route template, status and outcome ('success' or the error code).",
    labelNames: ['method', 'route', 'status', 'outcome'],
    registers: [registry],
  });
  // Konnect's four calls refused for their API key exist from the start, at 0: a series that first appears at 1
  // shows no increase() in Prometheus, and the first refused call would go unseen by the refused-key alert.
  for (const [method, route] of KONNECT_CALLS) requests.inc({ method, route, status: '401', outcome: 'unauthorized' }, 0);
  const requestSeconds = new Histogram({
    name: 'dcr_bridge_http_request_duration_seconds',
    help: 'Time from a request reaching the bridge to its answer.',
    labelNames: ['method', 'route'],
    buckets: SECONDS,
    registers: [registry],
  });
  const operations = new Counter({
    name: 'dcr_bridge_operations_total',
    help: 'Konnect operations that reached the adapter, by outcome (success, acknowledged, or the error code) and status class.',
    labelNames: ['operation', 'adapter', 'outcome', 'status_class'],
    registers: [registry],
  });
  const operationSeconds = new Histogram({
    name: 'dcr_bridge_operation_duration_seconds',
    help: 'Time from the Konnect call reaching the adapter to its answer.',
    labelNames: ['operation', 'adapter'],
    buckets: SECONDS,
    registers: [registry],
  });
  const idpRequests = new Counter({
    name: 'dcr_bridge_idp_requests_total',
    help: "IdP admin API calls (each attempt), by route template and status ('error': no answer).",
    labelNames: ['idp', 'method', 'route', 'status'],
    registers: [registry],
  });
  const idpSeconds = new Histogram({
    name: 'dcr_bridge_idp_request_duration_seconds',
    help: 'Duration of one IdP call attempt.',
    labelNames: ['idp', 'method', 'route'],
    buckets: SECONDS,
    registers: [registry],
  });
  const idpRetries = new Counter({
    name: 'dcr_bridge_idp_retries_total',
    help: 'IdP call attempts after the first (retries, and the one retry with a fresh admin token after a 401).',
    labelNames: ['idp', 'method', 'route'],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'dcr_bridge_admin_token_requests_total',
    help: 'Admin token requests to the IdP, by result.',
    labelNames: ['idp', 'result'],
    registers: [registry],
  });
  const storeOperations = new Counter({
    name: 'dcr_bridge_store_operations_total',
    help: 'Store and journal operations, by result.',
    labelNames: ['store', 'operation', 'result'],
    registers: [registry],
  });
  const storeSeconds = new Histogram({
    name: 'dcr_bridge_store_operation_duration_seconds',
    help: 'Duration of a store or journal operation (a write includes its sync to disk).',
    labelNames: ['store', 'operation'],
    buckets: SECONDS,
    registers: [registry],
  });

  const canarySuccess = new Gauge({
    name: 'dcr_bridge_canary_success',
    help: "1 when the canary's last run created, rotated and deleted a probe client at the IdP, 0 when it failed.",
    registers: [registry],
  });
  const canaryLastSuccess = new Gauge({
    name: 'dcr_bridge_canary_last_success_timestamp_seconds',
    help: 'When the canary last passed (Unix time).',
    registers: [registry],
  });
  const canaryRuns = new Counter({
    name: 'dcr_bridge_canary_runs_total',
    help: 'Canary results seen by this process (its own runs and those another replica recorded), by result.',
    labelNames: ['result'],
    registers: [registry],
  });

  const listeners: Array<[string, (message: unknown) => void]> = [
    [
      CHANNELS.request,
      (message) => {
        const { method, route, status, outcome, seconds } = message as RequestMessage;
        requests.inc({ method, route, status: String(status), outcome });
        requestSeconds.observe({ method, route }, seconds);
      },
    ],
    [
      CHANNELS.operation,
      (message) => {
        const { operation, adapter, outcome, status, seconds } = message as OperationMessage;
        operations.inc({ operation, adapter, outcome, status_class: `${Math.floor(status / 100)}xx` });
        operationSeconds.observe({ operation, adapter }, seconds);
      },
    ],
    [
      CHANNELS.idpCall,
      (message) => {
        const { idp, method, route, status, seconds, attempt } = message as IdpCallMessage;
        idpRequests.inc({ idp, method, route, status: String(status) });
        idpSeconds.observe({ idp, method, route }, seconds);
        if (attempt > 0) idpRetries.inc({ idp, method, route });
      },
    ],
    [
      CHANNELS.token,
      (message) => {
        const { idp, ok } = message as TokenMessage;
        tokens.inc({ idp, result: ok ? 'ok' : 'failed' });
      },
    ],
    [
      CHANNELS.store,
      (message) => {
        const { store, operation, ok, seconds } = message as StoreMessage;
        storeOperations.inc({ store, operation, result: ok ? 'ok' : 'failed' });
        storeSeconds.observe({ store, operation }, seconds);
      },
    ],
  ];
  for (const [name, listener] of listeners) subscribe(name, listener);

  return {
    recordCanary(ok, at) {
      canarySuccess.set(ok ? 1 : 0);
      if (ok) canaryLastSuccess.set(Math.floor(at.getTime() / 1000));
      canaryRuns.inc({ result: ok ? 'pass' : 'fail' });
    },
    handler: (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res
          .writeHead(405, { allow: 'GET', 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'method_not_allowed', error_description: 'Use GET /metrics.' }));
        return;
      }
      registry.metrics().then(
        (text) => void res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
        () =>
          void res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: 'internal_error', error_description: 'The metrics could not be collected.' })),
      );
    },
    close: () => {
      for (const [name, listener] of listeners) unsubscribe(name, listener);
    },
  };
}

/** A server of its own for `/metrics` (DCR_BRIDGE_METRICS_PORT), on the same host as the bridge. */
export async function listenForMetrics(metrics: BridgeMetrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://metrics').pathname === '/metrics') return metrics.handler(req, res);
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'not_found', error_description: 'This port serves GET /metrics only.' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
