import type { LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { createPingOneAdapter } from '../src/index.js';
import { afterAll } from 'vitest';
import { startFakePingOne, type FakePingOne } from './fake-pingone.js';
import { createPingOneApiDescription } from './vendor/pingone-api.js';

let p1: FakePingOne;
const logger = createCapturingLogger();
/** The PingOne Platform API description: every request the suite makes the adapter send, and every answer, is checked. */
const api = createPingOneApiDescription();
afterAll(() => api.expectNoProblems());

runConformanceSuite({
  name: 'pingone (fake Platform API and token endpoint)',
  async setup() {
    p1 = await startFakePingOne({ api });
    const adapterWith = (clientSecret: string, settings: LifecycleSettings = {}) =>
      createPingOneAdapter({
        environmentId: p1.environmentId,
        apiUrl: p1.apiUrl,
        authUrl: p1.authUrl,
        clientId: p1.worker.clientId,
        clientSecret,
        logger,
        ...settings,
      });
    const requestLimited = (method: string, path: RegExp, seconds: number) =>
      p1.failNext(
        method,
        path,
        429,
        { id: 'b4d5b5e1-0c57-4f8c-9a7e-3f0f7c2b6a01', code: 'REQUEST_LIMITED', message: 'The request was rate limited.' },
        { 'retry-after': String(seconds) },
      );
    return {
      adapter: adapterWith(p1.worker.clientSecret),
      logger,
      hiddenValues: [p1.worker.clientSecret],
      idp: {
        adminRequests: () => p1.requests.filter((line) => !/^POST \/[^/]+\/as\/token/.test(line)),
        coldAdapter: () => adapterWith(p1.worker.clientSecret),
        adminTokensIssued: () => p1.workerTokenRequests(),
        rateLimitNextCreate: (seconds) => (requestLimited('POST', /\/applications$/, seconds), seconds),
        rateLimitNextLookup: (seconds) => requestLimited('GET', /\/applications\/[^/]+$/, seconds),
        refusedCredentials: () => ({ adapter: adapterWith('wrong-worker-secret'), secret: 'wrong-worker-secret' }),
      },
      faults: p1.faults,
      callBudget,
      build: (settings) => adapterWith(p1.worker.clientSecret, settings),
      // The add: the new current secret, the replaced one kept as PingOne's previous secret.
      rotationRequest: { method: 'POST', path: /\/applications\/[^/]+\/secret$/ },
      application: { scopes: ['orders:read'] },
      unknownScope: 'no-such-scope',
      backdoor: {
        canGetToken: (clientId, secret) => p1.clientCredentials(clientId, secret),
        clientExists: async (clientId) => p1.app(clientId) !== undefined,
        redirectUris: async (clientId) => (p1.app(clientId)?.body.redirectUris as string[] | undefined) ?? [],
        createForeignClient: async () => p1.createForeignApp(),
        countClients: async () => p1.appCount(),
        // The custom login page, which the bridge never sets: the PUT of an update sends the whole application back.
        adminSetting: {
          set: async (clientId, value) => p1.editApp(clientId, { loginPageUrl: `https://login.example.com/${value}` }),
          get: async (clientId) => (p1.app(clientId)?.body.loginPageUrl as string | undefined)?.replace('https://login.example.com/', ''),
        },
      },
    };
  },
  teardown: () => p1.close(),
});
