import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineDcrAdapter, type IdpPrimitives } from '../src/index.js';
import { createIdpHttpClient, path, staticAuthorization } from '../src/idp.js';
import { createBridgeApp } from '../src/http.js';
import { konnectBody, ANY_REGISTRATION } from './fixtures.js';
import { listen, readBody, sendJson } from './helpers.js';

/** What an operator gets once an OpenTelemetry SDK runs in the process: the SDK's in-memory exporter here. */
const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

describe('traces', () => {
  it('record a span per Konnect operation with a child per IdP call, send the trace context to the IdP, and hold no secret', async () => {
    const seen: Array<{ url: string; traceparent: string | undefined }> = [];
    const idp = await listen(async (req, res) => {
      seen.push({ url: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
      await readBody(req);
      sendJson(res, req.method === 'POST' ? 201 : 200, { id: 'client-1', secret: 'idp-secret-value' });
    });
    const http = createIdpHttpClient({
      idpName: 'Traced IdP',
      baseUrl: idp.url,
      authorization: staticAuthorization('Bearer admin-token-value'),
    });
    const primitives: IdpPrimitives<{ id: string }> = {
      id: 'traced',
      idpName: 'Traced IdP',
      marker: 'nothing',
      find: async (clientId, ctx) => (await http.get<{ id: string }>(path`/clients/${clientId}`, { signal: ctx.signal })).body,
      isOurs: () => true,
      registration: ANY_REGISTRATION,
      async create(_registration, ctx) {
        const created = await http.post<{ id: string; secret: string }>('/clients', {
          json: {},
          signal: ctx.signal,
          query: { client_secret: 'query-secret-value' },
        });
        await ctx.created(created.body.id, { id: created.body.id });
        return { clientId: created.body.id, clientSecret: created.body.secret };
      },
      remove: async () => undefined,
      checkReady: async () => ({ ready: true }),
    };
    const app = await listen(createBridgeApp({ adapter: defineDcrAdapter(primitives), apiKeys: ['traced_api_key_0123'] }));
    try {
      const res = await fetch(`${app.url}/`, {
        method: 'POST',
        headers: { 'x-api-key': 'traced_api_key_0123', 'content-type': 'application/json', 'x-request-id': 'req-traced' },
        body: JSON.stringify(konnectBody()),
      });
      expect(res.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const spans = exporter.getFinishedSpans();
      const operation = spans.find((span) => span.name === 'dcr createClient');
      const call = spans.find((span) => span.name === 'POST Traced IdP');
      expect(operation?.attributes).toMatchObject({
        'dcr.operation': 'createClient',
        'dcr.adapter': 'traced',
        'dcr.request_id': 'req-traced',
      });
      expect(call?.parentSpanContext?.spanId).toBe(operation?.spanContext().spanId);
      expect(call?.attributes).toMatchObject({
        'http.request.method': 'POST',
        'http.response.status_code': 201,
        'server.address': '127.0.0.1',
      });
      // The IdP got the call's own trace context: same trace, the IdP call's span as parent.
      expect(seen[0]?.traceparent).toBe(`00-${call?.spanContext().traceId}-${call?.spanContext().spanId}-01`);
      const recorded = JSON.stringify(spans.map((span) => ({ attributes: span.attributes, events: span.events, status: span.status })));
      for (const secret of ['idp-secret-value', 'admin-token-value', 'query-secret-value', 'traced_api_key_0123'])
        expect(recorded).not.toContain(secret);
    } finally {
      await app.close();
      await idp.close();
      await http.close();
    }
  });

  it("continue the trace Konnect sends in traceparent, and name the adapter in the IdP call's User-Agent", async () => {
    exporter.reset();
    const seen: Array<{ traceparent: string | undefined; userAgent: string | undefined }> = [];
    const idp = await listen(async (req, res) => {
      seen.push({ traceparent: req.headers.traceparent as string | undefined, userAgent: req.headers['user-agent'] });
      await readBody(req);
      sendJson(res, 201, { id: 'client-2', secret: 'idp-secret-value' });
    });
    const http = createIdpHttpClient({ idpName: 'Traced IdP', baseUrl: idp.url });
    const adapter = defineDcrAdapter({
      id: 'traced',
      idpName: 'Traced IdP',
      marker: 'nothing',
      find: async () => undefined,
      isOurs: () => true,
      registration: ANY_REGISTRATION,
      async create(_registration, ctx) {
        const created = await http.post<{ id: string; secret: string }>(path`/clients`, { json: {}, signal: ctx.signal });
        return { clientId: created.body.id, clientSecret: created.body.secret };
      },
      remove: async () => undefined,
      checkReady: async () => ({ ready: true }),
    });
    const app = await listen(createBridgeApp({ adapter, apiKeys: ['traced_api_key_0123'] }));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const konnectSpanId = '00f067aa0ba902b7';
    try {
      const res = await fetch(`${app.url}/`, {
        method: 'POST',
        headers: {
          'x-api-key': 'traced_api_key_0123',
          'content-type': 'application/json',
          traceparent: `00-${traceId}-${konnectSpanId}-01`,
          tracestate: 'konnect=1',
        },
        body: JSON.stringify(konnectBody()),
      });
      expect(res.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const spans = exporter.getFinishedSpans();
      const operation = spans.find((span) => span.name === 'dcr createClient');
      const call = spans.find((span) => span.name === 'POST Traced IdP');
      expect(operation?.spanContext().traceId).toBe(traceId);
      expect(operation?.parentSpanContext).toMatchObject({ traceId, spanId: konnectSpanId, isRemote: true });
      expect(operation?.spanContext().traceState?.get('konnect')).toBe('1');
      expect(call?.spanContext().traceId).toBe(traceId);
      expect(call?.attributes['url.template']).toBe('/clients');
      expect(seen[0]?.traceparent).toBe(`00-${traceId}-${call?.spanContext().spanId}-01`);
      expect(seen[0]?.userAgent).toMatch(/^dcr-bridge\/\d+\.\d+\.\d+\S* \(traced\)$/);
    } finally {
      await app.close();
      await idp.close();
      await http.close();
    }
  });

  it('mark a failed operation, and its IdP call, with the error code', async () => {
    exporter.reset();
    const idp = await listen((_req, res) => sendJson(res, 503, { error: 'maintenance' }));
    const http = createIdpHttpClient({ idpName: 'Down IdP', baseUrl: idp.url, retry: { retries: 0 } });
    const down = defineDcrAdapter({
      id: 'down',
      idpName: 'Down IdP',
      marker: 'nothing',
      find: async (clientId, ctx) => http.find(path`/clients/${clientId}`, `reading client ${clientId}`, { signal: ctx.signal }),
      isOurs: () => true,
      registration: ANY_REGISTRATION,
      create: async () => ({ clientId: 'never', clientSecret: 'never' }),
      remove: async () => undefined,
      checkReady: async () => ({ ready: true }),
    });
    const app = await listen(createBridgeApp({ adapter: down, apiKeys: ['traced_api_key_0123'] }));
    try {
      expect((await fetch(`${app.url}/c-1`, { method: 'DELETE', headers: { 'x-api-key': 'traced_api_key_0123' } })).status).toBe(502);
      const spans = exporter.getFinishedSpans().map((span) => ({
        name: span.name,
        status: span.status.code,
        error: span.attributes['error.type'],
        http: span.attributes['http.response.status_code'],
      }));
      expect(spans).toEqual([
        { name: 'GET Down IdP', status: 0, error: undefined, http: 503 },
        { name: 'dcr deleteClient', status: 2, error: 'idp_unavailable', http: undefined },
      ]);
    } finally {
      await app.close();
      await idp.close();
      await http.close();
    }
  });
});
