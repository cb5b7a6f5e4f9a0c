import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * Plumbing for the fakes of IdP admin APIs that adapters test against: a log of every request, failures
 * injected on demand (the next request matching a method and path answers a given status, body and
 * headers, once), a server on 127.0.0.1 and a free port, and client credentials read the way token
 * endpoints read them. The fakes themselves hold only their IdP's behaviour.
 */
export interface FakeIdpKit {
  /** `METHOD /path?query` of every request, in arrival order. */
  requests: string[];
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Mount first (works with Express and plain node:http). */
  middleware(req: IncomingMessage, res: ServerResponse, next: () => void): void;
}

export function createFakeIdpKit(): FakeIdpKit {
  const requests: string[] = [];
  const failures: Array<{ method: string; pattern: RegExp; status: number; body?: unknown; headers?: Record<string, string> }> = [];
  return {
    requests,
    failNext: (method, pattern, status, body, headers) => void failures.push({ method, pattern, status, body, headers }),
    middleware(req, res, next) {
      requests.push(`${req.method} ${req.url}`);
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const index = failures.findIndex((failure) => failure.method === req.method && failure.pattern.test(path));
      if (index === -1) return next();
      const [failure] = failures.splice(index, 1);
      if (!failure) return next();
      if (failure.body === undefined) {
        res.writeHead(failure.status, failure.headers).end();
        return;
      }
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers }).end(JSON.stringify(failure.body));
    },
  };
}

export interface LoopbackServer {
  /** e.g. http://127.0.0.1:41234 (https://localhost:… with TLS, matching a certificate for localhost). */
  origin: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function listenOnLoopback(handler: RequestListener, options: { tls?: { key: string; cert: string } } = {}): Promise<LoopbackServer> {
  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
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
export function clientCredentials(authorization: string | undefined, form: Record<string, string | undefined>): { clientId: string; clientSecret: string } {
  const basic = authorization?.match(/^Basic (.+)$/)?.[1];
  if (basic) {
    const [id = '', secret = ''] = Buffer.from(basic, 'base64').toString('utf8').split(':');
    return { clientId: decodeURIComponent(id), clientSecret: decodeURIComponent(secret) };
  }
  return { clientId: form.client_id ?? '', clientSecret: form.client_secret ?? '' };
}
