import express from 'express';
import { describe, expect, it, vi } from 'vitest';
import { clientCredentials, createFakeIdpKit, FAULT_KINDS, listenOnLoopback, type FakeIdpKit, type FaultKind } from '../src/index.js';

/** An Express fake behind the kit: `POST /echo` parses JSON and records it as processed; `GET /token` answers 200. */
async function startFake(kit: FakeIdpKit) {
  const processed: unknown[] = [];
  const app = express();
  app.use(kit.middleware);
  app.post('/echo', express.json(), (req, res) => {
    processed.push(req.body);
    res.status(201).json({ echo: req.body });
  });
  app.get('/token', (_req, res) => res.json({ ok: true }));
  const server = await listenOnLoopback(app);
  const echo = (body: unknown, signal?: AbortSignal) =>
    fetch(`${server.origin}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  return { server, processed, echo };
}

/** Sends a request and gives up once the kit has faulted it and its body has had time to arrive. */
async function giveUp(kit: FakeIdpKit, request: (signal: AbortSignal) => Promise<Response>): Promise<void> {
  const faulted = kit.faults.length + 1;
  const controller = new AbortController();
  const response = request(controller.signal);
  await vi.waitFor(() => expect(kit.faults).toHaveLength(faulted));
  await new Promise((resolve) => setTimeout(resolve, 20));
  controller.abort();
  await expect(response).rejects.toThrow(/aborted/);
}

describe('fake IdP kit', () => {
  it('logs every request and answers an injected failure exactly once', async () => {
    const kit = createFakeIdpKit();
    const server = await listenOnLoopback((req, res) => kit.middleware(req, res, () => res.writeHead(200).end('ok')));
    try {
      kit.failNext('GET', /^\/clients\/[^/]+$/, 429, { error: 'slow down' }, { 'retry-after': '3' });
      const limited = await fetch(`${server.origin}/clients/abc?x=1`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('3');
      expect(await limited.json()).toEqual({ error: 'slow down' });
      expect((await fetch(`${server.origin}/clients/abc`)).status).toBe(200);
      expect((await fetch(`${server.origin}/clients`, { method: 'POST' })).status).toBe(200);
      expect(kit.requests).toEqual(['GET /clients/abc?x=1', 'GET /clients/abc', 'POST /clients']);
    } finally {
      await server.close();
    }
  });

  it('reads client credentials from form-encoded HTTP Basic or from the form', () => {
    const basic = `Basic ${Buffer.from(`${encodeURIComponent('my:client')}:${encodeURIComponent('s3cr/t')}`).toString('base64')}`;
    expect(clientCredentials(basic, {})).toEqual({ clientId: 'my:client', clientSecret: 's3cr/t' });
    expect(clientCredentials(undefined, { client_id: 'a', client_secret: 'b' })).toEqual({ clientId: 'a', clientSecret: 'b' });
    expect(clientCredentials(undefined, {})).toEqual({ clientId: '', clientSecret: '' });
  });
});

describe('fault injection', () => {
  it('error_500 answers a JSON 500 without processing, once', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'error_500');
      const failed = await echo({ n: 1 });
      expect(failed.status).toBe(500);
      expect(failed.headers.get('content-type')).toBe('application/json');
      expect(await failed.json()).toEqual({ error: 'server_error', error_description: 'injected fault' });
      expect(processed).toEqual([]);
      expect((await echo({ n: 2 })).status).toBe(201);
      expect(processed).toEqual([{ n: 2 }]);
      expect(kit.faults).toEqual([{ method: 'POST', path: '/echo', kind: 'error_500' }]);
      expect(kit.requests).toEqual(['POST /echo', 'POST /echo']);
    } finally {
      await server.close();
    }
  });

  it('reset_before destroys the connection without processing', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'reset_before');
      await expect(echo({ n: 1 })).rejects.toThrow(TypeError);
      expect(processed).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('rate_limited answers 429 with retry-after: 1 without processing', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'rate_limited');
      const limited = await echo({ n: 1 });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(await limited.json()).toMatchObject({ error: expect.any(String) });
      expect(processed).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('hang never answers nor processes, and settles once the client gives up', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'hang');
      await expect(echo({ n: 1 }, AbortSignal.timeout(200))).rejects.toThrow(/aborted/);
      await kit.settle();
      expect(processed).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('hang settles once the server closes the connection', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'hang');
      const hung = echo({ n: 1 });
      await vi.waitFor(() => expect(kit.faults).toHaveLength(1));
      let settled = false;
      void kit.settle().then(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(settled).toBe(false);
      await server.close();
      await expect(hung).rejects.toThrow(TypeError);
      await vi.waitFor(() => expect(settled).toBe(true));
      expect(processed).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('held_then_processed processes the parsed body after the client has given up', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'held_then_processed', { delayMs: 200 });
      await giveUp(kit, (signal) => echo({ hello: 'world' }, signal));
      expect(processed).toEqual([]);
      await kit.settle();
      expect(processed).toEqual([{ hello: 'world' }]);
      expect((await echo({ n: 2 })).status).toBe(201);
    } finally {
      await server.close();
    }
  });

  it('held_then_processed answers normally when the client waits, and after the server has closed still processes', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'held_then_processed', { delayMs: 50 });
      const started = Date.now();
      const held = await echo({ n: 1 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      expect(held.status).toBe(201);
      expect(await held.json()).toEqual({ echo: { n: 1 } });
      kit.faultNext('GET', /^\/token$/, 'held_then_processed', { delayMs: 0 });
      expect(await (await fetch(`${server.origin}/token`)).json()).toEqual({ ok: true });

      kit.faultNext('POST', /^\/echo$/, 'held_then_processed', { delayMs: 200 });
      const dropped = echo({ n: 2 });
      await vi.waitFor(() => expect(kit.faults).toHaveLength(3));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await server.close();
      await expect(dropped).rejects.toThrow(TypeError);
      await kit.settle();
      expect(processed).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await server.close();
    }
  });

  it('processed_answer_late processes at once and answers after the delay', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'processed_answer_late', { delayMs: 300 });
      const started = Date.now();
      let answered = false;
      const late = echo({ n: 1 }).finally(() => (answered = true));
      await vi.waitFor(() => expect(processed).toEqual([{ n: 1 }]));
      expect(answered).toBe(false);
      const response = await late;
      expect(Date.now() - started).toBeGreaterThanOrEqual(295);
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ echo: { n: 1 } });
      await kit.settle();
    } finally {
      await server.close();
    }
  });

  it('processed_answer_late holds writeHead, write and end of a plain node:http handler, and drops the answer when the client has gone', async () => {
    const kit = createFakeIdpKit();
    let handled = 0;
    const server = await listenOnLoopback((req, res) =>
      kit.middleware(req, res, () => {
        handled += 1;
        res.writeHead(202, { 'x-fake': 'yes' }).write('hello ');
        res.end('world');
      }),
    );
    try {
      kit.faultNext('GET', /^\/late$/, 'processed_answer_late', { delayMs: 60 });
      const started = Date.now();
      const response = await fetch(`${server.origin}/late`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
      expect(response.status).toBe(202);
      expect(response.headers.get('x-fake')).toBe('yes');
      expect(await response.text()).toBe('hello world');

      kit.faultNext('GET', /^\/late$/, 'processed_answer_late', { delayMs: 10_000 });
      await giveUp(kit, (signal) => fetch(`${server.origin}/late`, { signal }));
      const aborted = Date.now();
      await kit.settle();
      expect(Date.now() - aborted).toBeLessThan(1_000);
      expect(handled).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('processed_answer_lost processes and destroys the connection without an answer', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.faultNext('POST', /^\/echo$/, 'processed_answer_lost');
      await expect(echo({ n: 1 })).rejects.toThrow(TypeError);
      await kit.settle();
      expect(processed).toEqual([{ n: 1 }]);
      expect((await echo({ n: 2 })).status).toBe(201);
    } finally {
      await server.close();
    }
  });

  it('leaves no timer keeping the process alive once the server is closed', async () => {
    const kit = createFakeIdpKit();
    const { server, echo } = await startFake(kit);
    try {
      const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
      const before = timers();
      kit.faultNext('POST', /^\/echo$/, 'held_then_processed', { delayMs: 10_000 });
      await giveUp(kit, (signal) => echo({ n: 1 }, signal));
      await server.close();
      expect(timers()).toBeLessThanOrEqual(before);
    } finally {
      await server.close();
    }
  });

  it('faults about rate × requests at random, the same kinds again for the same seed', async () => {
    const kinds = FAULT_KINDS.filter((kind) => kind !== 'hang');
    const run = async (seed: number) => {
      const kit = createFakeIdpKit();
      const { server, processed, echo } = await startFake(kit);
      try {
        kit.injectFaults({ rate: 0.5, kinds, delayMs: [0, 5], seed });
        // Kinds are drawn in arrival order, so requests in parallel still draw the same sequence.
        for (let batch = 0; batch < 200; batch += 25) {
          await Promise.all(Array.from({ length: 25 }, (_, n) => echo({ n: batch + n }).catch(() => undefined)));
        }
        await kit.settle();
        const processedKinds: FaultKind[] = ['held_then_processed', 'processed_answer_late', 'processed_answer_lost'];
        expect(processed).toHaveLength(200 - kit.faults.filter((fault) => !processedKinds.includes(fault.kind)).length);
        return kit.faults.map((fault) => fault.kind);
      } finally {
        await server.close();
      }
    };
    const first = await run(42);
    expect(first.length).toBeGreaterThanOrEqual(70);
    expect(first.length).toBeLessThanOrEqual(130);
    expect(new Set(first)).toEqual(new Set(kinds));
    expect(await run(42)).toEqual(first);
    expect(await run(43)).not.toEqual(first);
  });

  it('faults only the requests the plan matches, and stops when the plan is removed', async () => {
    const kit = createFakeIdpKit();
    const { server, processed, echo } = await startFake(kit);
    try {
      kit.injectFaults({ rate: 1, kinds: ['error_500'], match: (_method, path) => path !== '/token' });
      expect((await fetch(`${server.origin}/token?grant=x`)).status).toBe(200);
      expect((await echo({ n: 1 })).status).toBe(500);
      expect(kit.faults).toEqual([{ method: 'POST', path: '/echo', kind: 'error_500' }]);
      kit.injectFaults(undefined);
      expect((await echo({ n: 2 })).status).toBe(201);
      expect(processed).toEqual([{ n: 2 }]);
    } finally {
      await server.close();
    }
  });

  it('answers failNext before faultNext before random faults, and logs every request', async () => {
    const kit = createFakeIdpKit();
    const { server, echo } = await startFake(kit);
    try {
      kit.injectFaults({ rate: 1, kinds: ['rate_limited'] });
      kit.faultNext('POST', /^\/echo$/, 'error_500');
      kit.failNext('POST', /^\/echo$/, 418);
      expect((await echo({ n: 1 })).status).toBe(418);
      expect((await echo({ n: 2 })).status).toBe(500);
      expect((await echo({ n: 3 })).status).toBe(429);
      expect(kit.faults.map((fault) => fault.kind)).toEqual(['error_500', 'rate_limited']);
      expect(kit.requests).toEqual(['POST /echo', 'POST /echo', 'POST /echo']);
    } finally {
      await server.close();
    }
  });

  it('refuses a plan it cannot draw from', () => {
    const kit = createFakeIdpKit();
    expect(() => kit.injectFaults({ rate: 1.5 })).toThrow(RangeError);
    expect(() => kit.injectFaults({ rate: 0.5, kinds: [] })).toThrow(RangeError);
    expect(() => kit.injectFaults({ rate: 0.5, delayMs: [10, 5] })).toThrow(RangeError);
  });
});
