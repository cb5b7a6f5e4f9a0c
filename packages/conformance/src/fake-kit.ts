import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Plumbing for the fakes of IdP admin APIs that adapters test against: a log of every request, failures
 * injected on demand (the next request matching a method and path answers a given status, body and
 * headers, once), faults injected at random or on demand (see `FaultKind`), a server on 127.0.0.1 and a
 * free port, and client credentials read the way token endpoints read them. The fakes themselves hold
 * only their IdP's behaviour.
 */
export interface FakeIdpKit {
  /** `METHOD /path?query` of every request, in arrival order. */
  requests: string[];
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Random faults from now on; `undefined` turns them off. */
  injectFaults(plan: FaultPlan | undefined): void;
  /**
   * One fault for the next request matching the method and path (without query); before random ones,
   * after `failNext`. `delayMs` for held and late kinds, default 6500.
   */
  faultNext(method: string, pathPattern: RegExp, kind: FaultKind, options?: { delayMs?: number }): void;
  /** Every fault injected so far, in order. */
  faults: InjectedFault[];
  /** Resolves when every held or delayed request has finished (processed or dropped); tests await it before checking IdP state. */
  settle(): Promise<void>;
  /** Mount first (works with Express and plain node:http). */
  middleware(req: IncomingMessage, res: ServerResponse, next: () => void): void;
}

/**
 * How an IdP misbehaves. Before processing: `error_500`, `reset_before` (connection destroyed),
 * `rate_limited` (429, `retry-after: 1`), `hang` (no answer until the client gives up). Processed anyway:
 * `held_then_processed` (held for a delay, then processed even if the client has gone),
 * `processed_answer_late` (processed at once, the answer sent after a delay), `processed_answer_lost`
 * (processed, then the connection destroyed without an answer).
 */
export type FaultKind =
  'error_500' | 'reset_before' | 'rate_limited' | 'hang' | 'held_then_processed' | 'processed_answer_late' | 'processed_answer_lost';

export const FAULT_KINDS: readonly FaultKind[] = [
  'error_500',
  'reset_before',
  'rate_limited',
  'hang',
  'held_then_processed',
  'processed_answer_late',
  'processed_answer_lost',
];

export interface FaultPlan {
  /** Probability in [0,1] that a matching request gets a fault. */
  rate: number;
  /** Kinds drawn uniformly; default all. */
  kinds?: readonly FaultKind[];
  /** Delay range for held/late kinds, ms. Default [6500, 11000]. */
  delayMs?: readonly [number, number];
  /** Which requests may be faulted (e.g. leave token endpoints alone). Default all. */
  match?: (method: string, path: string) => boolean;
  /** Seed of the pseudo-random generator, so that a failing run can be replayed. Default random. */
  seed?: number;
}

export interface InjectedFault {
  method: string;
  /** Without the query. */
  path: string;
  kind: FaultKind;
}

// Longer than the bridge's default per-attempt timeout (5 s), so held and late answers outlive the caller.
const DEFAULT_DELAY_MS: readonly [number, number] = [6500, 11_000];

export function createFakeIdpKit(): FakeIdpKit {
  const requests: string[] = [];
  const failures: Array<{ method: string; pattern: RegExp; status: number; body?: unknown; headers?: Record<string, string> }> = [];
  const planned: Array<{ method: string; pattern: RegExp; kind: FaultKind; delayMs: number }> = [];
  const faults: InjectedFault[] = [];
  const pending = new Set<Promise<void>>();
  let random: { plan: FaultPlan; draw: () => number } | undefined;

  /** Counts a request as pending until the returned function is called (any number of times). */
  const track = (): (() => void) => {
    let resolve = () => {};
    const done = new Promise<void>((r) => (resolve = r));
    pending.add(done);
    return () => {
      pending.delete(done);
      resolve();
    };
  };

  const drawFault = (method: string, path: string): { kind: FaultKind; delayMs: number } | undefined => {
    const index = planned.findIndex((fault) => fault.method === method && fault.pattern.test(path));
    if (index !== -1) return planned.splice(index, 1)[0];
    if (!random || !(random.plan.match?.(method, path) ?? true) || random.draw() >= random.plan.rate) return undefined;
    const kinds = random.plan.kinds ?? FAULT_KINDS;
    const [min, max] = random.plan.delayMs ?? DEFAULT_DELAY_MS;
    const kind = kinds[Math.floor(random.draw() * kinds.length)];
    return kind && { kind, delayMs: min + Math.round(random.draw() * (max - min)) };
  };

  return {
    requests,
    faults,
    failNext: (method, pattern, status, body, headers) => void failures.push({ method, pattern, status, body, headers }),
    injectFaults(plan) {
      if (plan) checkPlan(plan);
      random = plan && { plan, draw: mulberry32(plan.seed ?? Math.floor(Math.random() * 2 ** 32)) };
    },
    faultNext: (method, pattern, kind, options) =>
      void planned.push({ method, pattern, kind, delayMs: options?.delayMs ?? DEFAULT_DELAY_MS[0] }),
    async settle() {
      while (pending.size > 0) await Promise.all(pending);
    },
    middleware(req, res, next) {
      requests.push(`${req.method} ${req.url}`);
      const method = req.method ?? 'GET';
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const index = failures.findIndex((failure) => failure.method === method && failure.pattern.test(path));
      const failure = index === -1 ? undefined : failures.splice(index, 1)[0];
      if (failure) return answer(res, failure.status, failure.body, failure.headers);
      const fault = drawFault(method, path);
      if (!fault) return next();
      faults.push({ method, path, kind: fault.kind });
      injectFault(fault.kind, fault.delayMs, req, res, next, track);
    },
  };
}

function answer(res: ServerResponse, status: number, body?: unknown, headers?: Record<string, string>): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function checkPlan(plan: FaultPlan): void {
  const [min, max] = plan.delayMs ?? DEFAULT_DELAY_MS;
  if (!(plan.rate >= 0 && plan.rate <= 1)) throw new RangeError(`Fault rate must be in [0, 1], got ${plan.rate}.`);
  if (plan.kinds?.length === 0) throw new RangeError('Fault kinds must not be empty.');
  if (!(min >= 0 && min <= max)) throw new RangeError(`Fault delay range must be [min, max] with 0 <= min <= max, got [${min}, ${max}].`);
}

function injectFault(
  kind: FaultKind,
  delayMs: number,
  req: IncomingMessage,
  res: ServerResponse,
  next: () => void,
  track: () => () => void,
): void {
  switch (kind) {
    case 'error_500':
      return answer(res, 500, { error: 'server_error', error_description: 'injected fault' });
    case 'rate_limited':
      return answer(res, 429, { error: 'rate_limited', error_description: 'injected fault' }, { 'retry-after': '1' });
    case 'reset_before':
      req.socket.destroy();
      return;
    case 'hang':
      res.once('close', track());
      return;
    case 'held_then_processed': {
      const finish = track();
      void Promise.all([readBody(req), sleep(delayMs)]).then(([body]) => {
        // A body cut short never reached the IdP whole: nothing to process.
        if (!body) return finish();
        replayBody(req, body);
        const { end } = res;
        res.end = function (this: ServerResponse, ...args: unknown[]) {
          res.end = end;
          finish();
          return Reflect.apply(end, this, args);
        } as ServerResponse['end'];
        next();
      });
      return;
    }
    case 'processed_answer_late': {
      const finish = track();
      interceptAnswer(res, (send) => {
        if (req.socket.destroyed) return finish();
        const timer = setTimeout(() => {
          send();
          finish();
        }, delayMs).unref();
        res.once('close', () => {
          clearTimeout(timer);
          finish();
        });
      });
      return next();
    }
    case 'processed_answer_lost': {
      const finish = track();
      interceptAnswer(res, () => {
        req.socket.destroy();
        finish();
      });
      return next();
    }
  }
}

/** Unref'd: a held request must not keep the process alive once its server is closed. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The whole body, or `undefined` when the connection closed before it arrived. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const collect = (chunk: Buffer) => void chunks.push(chunk);
    req.on('data', collect);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('close', () => {
      req.off('data', collect);
      resolve(undefined);
    });
  });
}

/**
 * Makes a request whose body the kit has read (and whose client may have gone) readable again, so that
 * body parsers and plain handlers downstream read the body as if it had just arrived.
 */
function replayBody(req: IncomingMessage, body: Buffer): void {
  // The spent stream state has ended, and is destroyed once the client has gone: start a fresh one.
  (req as unknown as StreamInternals)._readableState = (new Readable() as unknown as StreamInternals)._readableState;
  req.push(body);
  req.push(null);
  // Body parsers skip a request whose socket is no longer readable (on-finished's isFinished).
  if (!req.socket.readable)
    req.socket = new Proxy(req.socket, { get: (socket, key) => (key === 'readable' ? true : Reflect.get(socket, key)) });
}

interface StreamInternals {
  _readableState: unknown;
}

/**
 * Keeps the handler's answer (`writeHead`, `write`, `end`) from the client. When the handler ends it,
 * `onEnd` gets a function that sends the answer as the handler wrote it.
 */
function interceptAnswer(res: ServerResponse, onEnd: (send: () => void) => void): void {
  const { writeHead, write, end } = res;
  const calls: Array<() => void> = [];
  res.writeHead = function (...args: unknown[]) {
    calls.push(() => Reflect.apply(writeHead, res, args));
    return res;
  } as ServerResponse['writeHead'];
  res.write = function (...args: unknown[]) {
    calls.push(() => Reflect.apply(write, res, args));
    return true;
  } as ServerResponse['write'];
  res.end = function (...args: unknown[]) {
    calls.push(() => Reflect.apply(end, res, args));
    onEnd(() => {
      Object.assign(res, { writeHead, write, end });
      for (const call of calls) call();
    });
    return res;
  } as ServerResponse['end'];
}

/** A small seeded generator of numbers in [0, 1) (mulberry32), so that a run can be replayed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface LoopbackServer {
  /** e.g. http://127.0.0.1:41234 (https://localhost:… with TLS, matching a certificate for localhost). */
  origin: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function listenOnLoopback(
  handler: RequestListener,
  options: { tls?: { key: string; cert: string } } = {},
): Promise<LoopbackServer> {
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** client_id and client_secret from HTTP Basic (form-encoded, RFC 6749 §2.3.1) or else the form body. */
export function clientCredentials(
  authorization: string | undefined,
  form: Record<string, string | undefined>,
): { clientId: string; clientSecret: string } {
  const basic = authorization?.match(/^Basic (.+)$/)?.[1];
  if (basic) {
    const [id = '', secret = ''] = Buffer.from(basic, 'base64').toString('utf8').split(':');
    return { clientId: decodeURIComponent(id), clientSecret: decodeURIComponent(secret) };
  }
  return { clientId: form.client_id ?? '', clientSecret: form.client_secret ?? '' };
}
