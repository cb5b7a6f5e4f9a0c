import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import express from 'express';
import { pino } from 'pino';
import { Pool } from 'undici';
import type { DcrAdapter, Logger } from '@dcr-bridge/core';
import { createBridgeApp } from '@dcr-bridge/core/http';
import { konnectApplication } from '@dcr-bridge/conformance';
import { createProcessLogger } from '../src/logger.js';

/**
 * `pnpm bench:http`: what core's HTTP layer costs per Konnect request, with the IdP out of the picture (an
 * adapter that answers at once). The same create request is served, in this process, by:
 * - `node:http`: a bare handler that reads the body and answers the same JSON (the floor);
 * - `express`: Express 5 with one route doing the same (what the framework itself costs);
 * - `bridge`: core's createBridgeApp (request id, API key, JSON body checks, payload parsing, the
 *   adapter call with its deadline, the access log line through the server's logger to /dev/null).
 * Reported: CPU microseconds per request (this process's user + system time over the requests) and
 * requests/s with 50 connections. `--profile` adds the functions that take the most self time in the
 * bridge run (a V8 CPU profile), grouped by where they live.
 */
const { values } = parseArgs({ options: { requests: { type: 'string', default: '40000' }, profile: { type: 'boolean', default: false } } });
const REQUESTS = Number(values.requests);
const CONNECTIONS = 50;
const apiKey = 'bench_api_key_0123456789';
const body = JSON.stringify(konnectApplication({ client_name: 'Bench app' }));
const answer = { client_id: 'client-1', client_secret: 'secret-1', client_id_issued_at: new Date(0).toISOString() };

const instant: DcrAdapter = {
  id: 'instant',
  capabilities: { rotateSecret: false, updateRedirectUris: false, audienceRegistrations: false },
  createClient: async () => ({ clientId: answer.client_id, clientSecret: answer.client_secret, clientIdIssuedAt: new Date(0) }),
  deleteClient: async () => undefined,
  checkReady: async () => ({ ready: true }),
};

function bare(): Server {
  return createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      JSON.parse(text);
      const out = JSON.stringify(answer);
      res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) }).end(out);
    });
  });
}

function expressOnly(): Server {
  const app = express();
  app.post('/', express.json(), (_req, res) => void res.status(201).json(answer));
  return createServer(app);
}

function bridge(logger: Logger): Server {
  return createServer(createBridgeApp({ adapter: instant, apiKeys: [apiKey], logger }));
}

async function load(server: Server): Promise<{ cpuMicros: number; perSecond: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: CONNECTIONS });
  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  let sent = 0;
  const run = async (count: number) => {
    sent = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (sent++ < count) {
          const res = await pool.request({ method: 'POST', path: '/', headers, body });
          if (res.statusCode !== 201) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`);
          await res.body.dump();
        }
      }),
    );
  };
  await run(REQUESTS / 4);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run(REQUESTS);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await pool.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  // The load generator shares the process: its own cost is in every row, so compare rows, not absolutes.
  return { cpuMicros: (used.user + used.system) / REQUESTS, perSecond: REQUESTS / seconds };
}

const logger = createProcessLogger({ level: 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) });
const rows: Array<[string, { cpuMicros: number; perSecond: number }]> = [];
rows.push(['node:http', await load(bare())]);
rows.push(['express', await load(expressOnly())]);
let profile:
  { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }> } | undefined;
if (values.profile) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  rows.push(['bridge', await load(bridge(logger))]);
  profile = (await session.post('Profiler.stop')).profile as typeof profile;
  session.disconnect();
} else {
  rows.push(['bridge', await load(bridge(logger))]);
}

const floor = rows[0]?.[1].cpuMicros ?? 0;
const lines = [
  `HTTP layer, ${REQUESTS} create requests, ${CONNECTIONS} connections, instant adapter, node ${process.version}`,
  '',
  '| server | CPU µs per request | above node:http | requests/s |',
  '|---|---|---|---|',
];
for (const [name, figures] of rows)
  lines.push(`| ${name} | ${figures.cpuMicros.toFixed(0)} | ${(figures.cpuMicros - floor).toFixed(0)} | ${figures.perSecond.toFixed(0)} |`);
if (profile) {
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const { url, functionName, lineNumber } = node.callFrame;
    const place =
      /node_modules\/(?:\.pnpm\/)?((?:@[^/]+\/)?[^/@]+)/.exec(url)?.[1] ??
      (/packages\/([^/]+)/.exec(url)?.[1]
        ? `@dcr-bridge/${/packages\/([^/]+)/.exec(url)?.[1]}`
        : url.startsWith('node:')
          ? 'node internals'
          : url === ''
            ? '(native, gc, idle)'
            : url);
    byPlace.set(place, (byPlace.get(place) ?? 0) + (node.hitCount ?? 0));
    const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + (node.hitCount ?? 0));
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, hits]) => `| ${name} | ${((100 * hits) / total).toFixed(1)} % |`);
  lines.push('', 'bridge run, self time by place (load generator included):', '', '| place | share |', '|---|---|', ...top(byPlace, 12));
  lines.push('', 'bridge run, top functions by self time:', '', '| function | share |', '|---|---|', ...top(byFunction, 20));
}
process.stdout.write(`${lines.join('\n')}\n`);
