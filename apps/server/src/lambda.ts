import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { configure } from '@codegenie/serverless-express';
import type { LogLevel, Logger } from '@dcr-bridge/core';
import pino from 'pino';
import { loadConfig, type ServerConfig } from './config.js';
import { createProcessLogger } from './logger.js';
import { buildBridgeApp } from './server.js';

/**
 * The AWS Lambda entry point: `@dcr-bridge/server/lambda` exports `handler`. The same composition as the
 * server (`buildBridgeApp`: config → adapter → Express app) runs once per cold start; warm invocations
 * reuse it. Events from API Gateway (REST APIs, payload 1.0; HTTP APIs, payload 2.0) and Lambda function
 * URLs reach the Express app through @codegenie/serverless-express, with three corrections made here:
 *
 * - the path: the route is taken from the full request path, never from a `{proxy+}` parameter, with or
 *   without the stage, whichever lies under DCR_BRIDGE_BASE_PATH (see `bridgePath`);
 * - the response's end: Node's HTTP server emits `close` on a finished response, the library's stand-in
 *   does not; core writes the access line there and learns that a create's answer left (see `finishLikeNodeHttp`);
 * - a start that fails (settings refused, an adapter that cannot start) answers every invocation with a
 *   500 JSON body that says the bridge is misconfigured and logs why; the next invocation tries again.
 */
export type LambdaHttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;
export type LambdaHttpResult = APIGatewayProxyResult | APIGatewayProxyStructuredResultV2;
export type LambdaHttpHandler = (event: LambdaHttpEvent, context?: Partial<Context>) => Promise<LambdaHttpResult>;

export interface LambdaHandlerOptions {
  /** Default: JSON lines on stdout, written synchronously (nothing is left unwritten when Lambda freezes the instance). */
  logger?: Logger;
  /** Start building now (the cold start's init phase) rather than at the first invocation. */
  startNow?: boolean;
  /** Where relative paths in the settings resolve. Default the working directory. */
  cwd?: string;
}

type Proxy = (event: LambdaHttpEvent, context: Partial<Context>) => Promise<LambdaHttpResult>;
type Started = { ok: true; proxy: Proxy; config: ServerConfig; logger: Logger } | { ok: false; proxy: Proxy };

export function createLambdaHandler(env: Record<string, string | undefined>, options: LambdaHandlerOptions = {}): LambdaHttpHandler {
  const loggerAt = (level: LogLevel): Logger =>
    options.logger ?? createProcessLogger({ level, destination: pino.destination({ dest: 1, sync: true }) });
  let starting: Promise<Started> | undefined;
  let timeoutChecked = false;

  const start = async (): Promise<Started> => {
    const began = performance.now();
    let logger = loggerAt('info');
    try {
      const result = await loadConfig(env, options.cwd);
      const problems = result.config ? lambdaProblems(result.config) : result.problems;
      if (!result.config || problems.length > 0) {
        logger.error('dcr-bridge cannot start on AWS Lambda; fix these settings (every invocation is answered 500 until then)', {
          problems,
        });
        return { ok: false, proxy: lambdaProxy(answerMisconfigured, logger) };
      }
      const { config } = result;
      logger = loggerAt(config.logLevel);
      const bridge = await buildBridgeApp(config, {
        logger,
        ...(config.store.kind === 'file' ? { storeFileRefusal: storeFileRefusal(config.store.path, config) } : {}),
      });
      logger.info('cold start done', {
        adapter: bridge.adapter.id,
        basePath: config.basePath,
        journal: config.journalPath,
        ms: Math.round(performance.now() - began),
      });
      return { ok: true, proxy: lambdaProxy(bridge.app, logger, () => bridge.adapter.drained?.()), config, logger };
    } catch (error) {
      logger.error('dcr-bridge cannot start on AWS Lambda (every invocation is answered 500 until it can)', { error });
      return { ok: false, proxy: lambdaProxy(answerMisconfigured, logger) };
    }
  };
  // A start that failed is tried again at the next invocation (the cause may have passed); one that worked is kept.
  const ready = (): Promise<Started> => {
    starting ??= start().then((started) => {
      if (!started.ok) starting = undefined;
      return started;
    });
    return starting;
  };
  if (options.startNow) void ready();

  return async (event, context = {}) => {
    const kind = eventKind(event);
    const started = await ready();
    if (!started.ok) return started.proxy(event, context);
    if (!timeoutChecked && typeof context.getRemainingTimeInMillis === 'function') {
      timeoutChecked = true;
      warnOnShortTimeout(context.getRemainingTimeInMillis(), started.config, started.logger);
    }
    return started.proxy(forTheBridge(event, kind, started.config.basePath), context);
  };
}

/** What the server accepts but a Lambda function cannot do. */
function lambdaProblems(config: ServerConfig): string[] {
  const problems: string[] = [];
  if (!config.adapter) {
    problems.push(
      'DCR_BRIDGE_ADAPTER is not set: without it the bridge would start its dev mode, which needs a listening port and is for laptops. Set DCR_BRIDGE_ADAPTER and the adapter’s settings.',
    );
  }
  if (config.metrics.where === 'port') {
    problems.push(
      'DCR_BRIDGE_METRICS_PORT is set, but a Lambda function listens on no port: remove it (DCR_BRIDGE_METRICS=on serves /metrics on the function’s own path).',
    );
  }
  return problems;
}

/** A store file under /tmp belongs to one instance and is lost with it: the records must be where every instance reads them. */
function storeFileRefusal(path: string, config: ServerConfig): string {
  return `The ${config.adapter?.module.id} adapter keeps per-client state, and on AWS Lambda a store file (${path}) would belong to one instance and be lost with it: each instance would refuse to rotate or delete the clients another created. Run this adapter on AWS Lambda with a PostgreSQL store (DCR_BRIDGE_STORE=postgres://…), or run the server.`;
}

/** Lambda ends an invocation at the function's timeout: the bridge must answer (504 at worst) before that. */
function warnOnShortTimeout(remainingMs: number, config: ServerConfig, logger: Logger): void {
  const neededMs = config.operationTimeoutMs + ANSWER_MARGIN_MS;
  if (remainingMs < neededMs) {
    logger.warn('the function timeout is shorter than the bridge needs: Lambda would end an invocation before the bridge answers', {
      remainingMs,
      operationTimeoutMs: config.operationTimeoutMs,
      advice: `set the function timeout to at least ${Math.ceil(neededMs / 1000)} s, or lower DCR_BRIDGE_OPERATION_TIMEOUT_MS`,
    });
  }
}

const ANSWER_MARGIN_MS = 1_000;

type EventKind = 'payload-1.0' | 'payload-2.0';

function eventKind(event: unknown): EventKind {
  const candidate = event as Partial<APIGatewayProxyEventV2 & APIGatewayProxyEvent> | null;
  if (candidate?.version === '2.0' && typeof candidate.rawPath === 'string' && candidate.requestContext?.http) return 'payload-2.0';
  if (typeof candidate?.httpMethod === 'string' && typeof candidate.path === 'string' && candidate.requestContext) return 'payload-1.0';
  throw new Error(
    'dcr-bridge’s Lambda handler serves HTTP requests: from API Gateway (REST API, or HTTP API with payload format 2.0) or a Lambda function URL. This event is none of those.',
  );
}

/** The request as the bridge routes it: the path chosen by `bridgePath`, and a copy wherever the library would write into the event. */
function forTheBridge(event: LambdaHttpEvent, kind: EventKind, basePath: string): LambdaHttpEvent {
  if (kind === 'payload-2.0') {
    const v2 = event as APIGatewayProxyEventV2;
    return { ...v2, rawPath: bridgePath([withoutStage(v2), v2.rawPath], basePath) };
  }
  const v1 = event as APIGatewayProxyEvent;
  // serverless-express routes a `{proxy+}` resource on the proxy parameter alone (`/v1/dcr/{proxy+}` would
  // lose `/v1/dcr`): without it, it takes `path`. It also adds content-length to the headers it is given.
  return { ...v1, headers: { ...v1.headers }, pathParameters: null, path: bridgePath([v1.path, v1.requestContext.path], basePath) };
}

/**
 * The first path that lies under DCR_BRIDGE_BASE_PATH, else the first: the path without the stage first,
 * then as called, so that the base path may be set with or without the stage. REST APIs give both
 * (`path` without the stage, `requestContext.path` with it); HTTP APIs put the stage in `rawPath`.
 */
function bridgePath(candidates: Array<string | undefined>, basePath: string): string {
  const paths = candidates.filter((path): path is string => typeof path === 'string' && path !== '');
  const base = `/${basePath.trim().replace(/^\/+|\/+$/g, '')}`;
  const under = (path: string) => base === '/' || path === base || path.startsWith(`${base}/`);
  return paths.find(under) ?? paths[0] ?? '/';
}

/** An HTTP API's `rawPath` carries a named stage when called on its execute-api domain (a custom domain's mapping picks the stage instead). */
function withoutStage(event: APIGatewayProxyEventV2): string {
  const { stage, domainName } = event.requestContext;
  if (!stage || stage === '$default' || !EXECUTE_API_DOMAIN.test(domainName)) return event.rawPath;
  const prefix = `/${stage}`;
  if (event.rawPath === prefix) return '/';
  return event.rawPath.startsWith(`${prefix}/`) ? event.rawPath.slice(prefix.length) : event.rawPath;
}

const EXECUTE_API_DOMAIN = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** serverless-express around one request listener, its log lines through ours (never its debug lines: they hold the whole event, headers and all). */
function lambdaProxy(listener: Listener, logger: Logger, drained: () => Promise<void> | undefined = () => undefined): Proxy {
  const proxy = configure<LambdaHttpEvent, LambdaHttpResult>({
    app: listener,
    framework: {
      sendRequest: ({ request, response }: { request: IncomingMessage; response: ServerResponse }) => {
        finishLikeNodeHttp(response);
        listener(request, response);
      },
    },
    log: {
      error: (message, ...details) => logger.error('serverless-express failed to carry a request', { message, details }),
      warn: (message) => logger.warn('serverless-express warning', { message }),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    respondWithErrors: false,
  });
  return async (event, context) => {
    const result = (await proxy(event, context as Context, () => undefined)) as LambdaHttpResult;
    // Lambda freezes the function once the handler returns: what follows an answer (a rotation's old secret
    // retired once the answer left, a create undone) is done before returning, for at most DRAIN_LIMIT_MS.
    await Promise.race([drained(), new Promise((resolve) => setTimeout(resolve, DRAIN_LIMIT_MS).unref())]);
    // The library answers a request it failed to carry (logged above) with an empty 500: answer JSON, as core does.
    if (result.statusCode === 500 && !result.body)
      return { ...result, headers: { ...result.headers, 'content-type': 'application/json' }, body: CARRY_FAILED };
    return result;
  };
}

/** How long an invocation waits, after its answer, for the work that follows it (see above). */
const DRAIN_LIMIT_MS = 3_000;

const CARRY_FAILED = JSON.stringify({
  error: 'internal_error',
  error_description: 'The bridge failed unexpectedly. Its logs have the details.',
});

/**
 * Node's HTTP server emits `close` once a response has finished, and `writableFinished` is then true; the
 * library's stand-in response does neither (its socket has no `writableLength`). Core listens to `close`:
 * for the access line and to know that a create's answer left (then its journal entry is removed; without
 * this, every create would count as unanswered and be undone). The stand-in socket writes synchronously,
 * so `finish` comes while `end()` is still running, before `finished` is set: `close` follows in a
 * microtask, after `end()` returned and before serverless-express (which also waits for `finish`) hands
 * the answer back.
 */
function finishLikeNodeHttp(response: ServerResponse): void {
  if (response.socket) Object.defineProperty(response.socket, 'writableLength', { value: 0 });
  response.once('finish', () => queueMicrotask(() => response.emit('close')));
}

const MISCONFIGURED = JSON.stringify({
  error: 'internal_error',
  error_description:
    'The bridge is misconfigured and could not start. Its logs (the Lambda function’s CloudWatch log group) say which settings to fix.',
});

function answerMisconfigured(_req: IncomingMessage, res: ServerResponse): void {
  // Two calls: the library's writeHead does not return the response as Node's does.
  res.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(MISCONFIGURED);
}

/**
 * The handler Lambda calls. On Lambda (AWS_LAMBDA_FUNCTION_NAME set) the bridge is built while the module
 * loads; elsewhere at the first invocation. Last in the module: the start uses the constants above.
 */
export const handler: LambdaHttpHandler = createLambdaHandler(process.env, { startNow: Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME) });
