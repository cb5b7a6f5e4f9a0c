import { describe, expect, it } from 'vitest';
import { clientCredentials, createFakeIdpKit, listenOnLoopback } from '../src/index.js';

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
