import { afterAll, beforeAll, expect, type TestContext } from 'vitest';
import type { DcrAdapter } from '@dcr-bridge/core';
import { startBridge, type BridgeHarness } from '../harness.js';
import { konnectApplication } from '../payloads.js';
import type { DefineScenario } from './scenarios.js';
import type { ConformanceOptions, ConformanceTarget } from './target.js';

/**
 * What every group's scenarios share: the target and the bridge set up once per suite, and helpers that
 * give each scenario its own client, so that any scenario runs alone (`vitest -t`).
 */
export interface SuiteRun {
  /** The target `setup` built; read it inside a test or hook, never while declaring. */
  readonly target: ConformanceTarget;
  readonly bridge: BridgeHarness;
  /** Calls the bridge and remembers every client secret it answers with (for `logs/no-secrets`). */
  call: BridgeHarness['call'];
  /** Every client secret the bridge answered with during the run. */
  readonly issuedSecrets: readonly string[];
  /** Every error answer (status 400 and up) of the run's bridges, with the request it answered (for `contract/no-idp-detail`). */
  readonly errorAnswers: readonly ErrorAnswerSeen[];
  /** A bridge of a scenario's own over `adapter`, whose answers the run records as it records its own. */
  startBridge(adapter: DcrAdapter, options?: Parameters<typeof startBridge>[1]): Promise<BridgeHarness>;
  /** The create payload: Konnect's, with the target's `application` fields and these overrides. */
  application(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Creates a client through the bridge (expecting 201) and deletes it when the test ends. */
  createClient(ctx: TestContext, overrides?: Record<string, unknown>): Promise<{ clientId: string; secret: string }>;
  /** A client id no client has. */
  unknownClientId(): string;
  scenario: DefineScenario;
}

/** An error answer one of the run's bridges gave, and what Konnect had sent. */
export interface ErrorAnswerSeen {
  method: string;
  path: string;
  /** The request's body as sent (values Konnect sent may be named in the description). */
  requestBody: unknown;
  status: number;
  body: unknown;
  /** The answer's `X-Request-Id`. */
  requestId: string | null;
}

/** `/{clientId}{rest}` with the client id as one path segment, as Konnect sends it. */
export const clientPath = (clientId: string, rest = ''): string => `/${encodeURIComponent(clientId)}${rest}`;

/** Redirect URIs sorted, to compare sets. */
export const sorted = (uris: readonly string[]): string[] => [...uris].sort();

/**
 * Sets the target and its bridge up once for the enclosing describe (and tears them down after it), and
 * returns the run the groups share. Call it while declaring the suite.
 */
export function suiteRun(options: ConformanceOptions, scenario: DefineScenario): SuiteRun {
  let target: ConformanceTarget | undefined;
  let bridge: BridgeHarness | undefined;
  const issuedSecrets: string[] = [];
  const errorAnswers: ErrorAnswerSeen[] = [];
  /** The harness's call, remembering every client secret and every error answer. */
  const recording =
    (call: BridgeHarness['call']): BridgeHarness['call'] =>
    async (method, path, callOptions) => {
      const res = await call(method, path, callOptions);
      if (typeof res.body?.client_secret === 'string') issuedSecrets.push(res.body.client_secret);
      if (res.status >= 400)
        errorAnswers.push({
          method,
          path,
          requestBody: callOptions?.body,
          status: res.status,
          body: res.body,
          requestId: res.headers.get('x-request-id'),
        });
      return res;
    };
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The conformance target is read before setup ran: read it inside a test or hook.');
    return value;
  };

  beforeAll(async () => {
    target = await options.setup();
    bridge = await startBridge(target.adapter, { logger: target.logger });
  });
  afterAll(async () => {
    await bridge?.close();
    await target?.adapter.close?.();
    await options.teardown?.();
  });

  const run: SuiteRun = {
    get target() {
      return ready(target);
    },
    get bridge() {
      return ready(bridge);
    },
    issuedSecrets,
    errorAnswers,
    call: (...args) => recording(ready(bridge).call)(...args),
    async startBridge(adapter, bridgeOptions) {
      const own = await startBridge(adapter, bridgeOptions);
      return { ...own, call: recording(own.call) };
    },
    application: (overrides = {}) => konnectApplication({ ...ready(target).application, ...overrides }),
    async createClient(ctx, overrides) {
      const res = await run.call('POST', '/', { body: run.application(overrides) });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const clientId = res.body.client_id as string;
      ctx.onTestFinished(async () => void (await run.call('DELETE', clientPath(clientId))));
      return { clientId, secret: res.body.client_secret as string };
    },
    unknownClientId: () => ready(target).unknownClientId ?? `no-such-client-${Date.now().toString(36)}`,
    scenario,
  };
  return run;
}
