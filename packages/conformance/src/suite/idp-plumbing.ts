import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect } from 'vitest';
import type { DcrAdapter } from '@dcr-bridge/core';
import { CHANNELS, type IdpCallMessage } from '@dcr-bridge/core/http';
import type { CapturingLogger } from '../capturing-logger.js';
import type { BridgeHarness } from '../harness.js';
import { konnectEvent } from '../payloads.js';
import { required, type ScenarioId } from './scenarios.js';
import { clientPath, type SuiteRun } from './run.js';
import type { ConformanceIdpPlumbing } from './target.js';

/**
 * Client ids that would leave their path segment if an adapter built IdP URLs by concatenation: a
 * traversal, a slash, an encoded slash (encoded twice on the wire), a query, and a traversal hidden in an
 * encoded slash. (A bare ".." cannot be sent: URL parsers normalise it away before the bridge sees it.)
 */
const HOSTILE_CLIENT_IDS = ['../../users', 'a/b', '%2F..%2Fusers', 'x?limit=200&after=0', '..%2F..'];

/** The plumbing every adapter gets from core, seen from the IdP's side of the wire (`ConformanceTarget.idp`). */
export function idpPlumbingGroup(run: SuiteRun): void {
  const { scenario } = run;
  /** The target's hooks that a scenario needs, each checked present. */
  const hooks = <K extends keyof ConformanceIdpPlumbing>(id: ScenarioId, ...names: K[]): Required<Pick<ConformanceIdpPlumbing, K>> => {
    const idp = run.target.idp ?? {};
    for (const name of names) required(idp[name], `idp.${name}`, id);
    return idp as Required<Pick<ConformanceIdpPlumbing, K>>;
  };
  /** Runs work on a bridge of its own over `adapter`, then closes both (closing ends the adapter's background work). */
  const onBridge = async <T>(adapter: DcrAdapter, work: (bridge: BridgeHarness) => Promise<T>): Promise<T> => {
    const bridge = await run.startBridge(adapter, { logger: run.target.logger });
    try {
      return await work(bridge);
    } finally {
      await bridge.close();
      await adapter.close?.();
    }
  };
  /** What the target's capturing logger holds so far, if it gave one. */
  const logged = () => (run.target.logger as Partial<CapturingLogger> | undefined)?.text?.();

  describe('idp plumbing', () => {
    scenario('idp-plumbing/one-admin-token', async () => {
      const idp = hooks('idp-plumbing/one-admin-token', 'coldAdapter', 'adminTokensIssued');
      await onBridge(idp.coldAdapter(), async (cold) => {
        const before = idp.adminTokensIssued();
        const created = await Promise.all(Array.from({ length: 8 }, () => cold.call('POST', '/', { body: run.application() })));
        expect(created.map((res) => res.status)).toEqual(Array(8).fill(201));
        expect(idp.adminTokensIssued() - before).toBe(1);
        for (const res of created) expect((await cold.call('DELETE', clientPath(res.body.client_id))).status).toBe(204);
      });
    });

    scenario('idp-plumbing/encoded-path-segments', async () => {
      const idp = hooks('idp-plumbing/encoded-path-segments', 'adminRequests');
      for (const clientId of HOSTILE_CLIENT_IDS) {
        const start = idp.adminRequests().length;
        const deleted = await run.call('DELETE', clientPath(clientId));
        expect(deleted.status, `delete of ${JSON.stringify(clientId)}: ${JSON.stringify(deleted.body)}`).toBe(204);
        if (run.target.adapter.capabilities.rotateSecret) {
          const rotated = await run.call('POST', clientPath(clientId, '/new-secret'));
          expect(rotated.status, `rotate of ${JSON.stringify(clientId)}: ${JSON.stringify(rotated.body)}`).toBe(404);
          expect(rotated.body.error).toBe('not_found');
        }
        const reached = idp.adminRequests().slice(start);
        expect(reached.length, `no request about ${JSON.stringify(clientId)} reached the IdP`).toBeGreaterThan(0);
        for (const line of reached)
          expect(
            carriesWhole(line, clientId),
            `${line} does not carry ${JSON.stringify(clientId)} whole in one path segment or query value`,
          ).toBe(true);
      }
    });

    scenario('idp-plumbing/rate-limited-create', async () => {
      const idp = hooks('idp-plumbing/rate-limited-create', 'rateLimitNextCreate');
      const before = await run.target.backdoor.countClients();
      const asked = idp.rateLimitNextCreate(20);
      const res = await run.call('POST', '/', { body: run.application() });
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.body.error).toBe('idp_rate_limited');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter > 0, `Retry-After ${res.headers.get('retry-after')}`).toBe(true);
      // An IdP that names a reset time rather than a wait (Okta) lands within a second or two of it.
      if (asked !== undefined)
        expect(Math.abs(retryAfter - asked), `Retry-After ${retryAfter}, the IdP asked for ${asked}`).toBeLessThanOrEqual(2);
      await run.target.adapter.drained?.();
      expect(await run.target.backdoor.countClients()).toBe(before);
    });

    scenario('idp-plumbing/rate-limited-lookup', async () => {
      const idp = hooks('idp-plumbing/rate-limited-lookup', 'rateLimitNextLookup', 'adminRequests');
      const start = idp.adminRequests().length;
      idp.rateLimitNextLookup(1);
      const res = await run.call('DELETE', clientPath(run.unknownClientId()));
      expect(res.status, JSON.stringify(res.body)).toBe(204);
      const [limited, retried] = idp.adminRequests().slice(start);
      expect(limited, 'the rate-limited lookup never reached the IdP').toBeDefined();
      expect(retried, 'the lookup was not tried again').toBe(limited);
    });

    scenario('idp-plumbing/refused-credentials-create', async () => {
      const { adapter, secret } = hooks('idp-plumbing/refused-credentials-create', 'refusedCredentials').refusedCredentials();
      const before = await run.target.backdoor.countClients();
      const res = await onBridge(adapter, (refused) => refused.call('POST', '/', { body: run.application() }));
      expect(res.status, JSON.stringify(res.body)).toBe(502);
      expect(res.body.error).toBe('idp_error');
      expect(res.body.error_description.length).toBeGreaterThan(0);
      expect(JSON.stringify(res.body)).not.toContain(secret);
      expect(logged() ?? '').not.toContain(secret);
      expect(await run.target.backdoor.countClients()).toBe(before);
    });

    scenario('idp-plumbing/refused-credentials-delete', async (ctx) => {
      const idp = hooks('idp-plumbing/refused-credentials-delete', 'refusedCredentials');
      const { clientId } = await run.createClient(ctx);
      const { adapter, secret } = idp.refusedCredentials();
      const res = await onBridge(adapter, (refused) => refused.call('DELETE', clientPath(clientId)));
      expect(res.status, JSON.stringify(res.body)).toBe(502);
      expect(res.body.error).toBe('idp_error');
      expect(JSON.stringify(res.body)).not.toContain(secret);
      expect(logged() ?? '').not.toContain(secret);
      expect(await run.target.backdoor.clientExists(clientId)).toBe(true);
    });

    scenario('idp-plumbing/route-templates', async () => {
      const { capabilities } = run.target.adapter;
      const calls = await idpCallsOf(async () => {
        const created = await run.call('POST', '/', { body: run.application() });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const clientId = created.body.client_id as string;
        if (capabilities.rotateSecret) {
          const rotated = await run.call('POST', clientPath(clientId, '/new-secret'));
          expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
        }
        if (capabilities.updateRedirectUris) {
          const updated = await run.call('POST', clientPath(clientId, '/event-hook'), {
            body: konnectEvent(clientId, {
              event_type: 'update_application',
              redirect_uris: run.target.updatedRedirectUris ?? ['https://app.example.com/route-templates'],
            }),
          });
          expect(updated.status, JSON.stringify(updated.body)).toBe(200);
        }
        expect((await run.call('DELETE', clientPath(clientId))).status).toBe(204);
        // Work left for after an answer (a retired secret, a journal entry) calls the IdP too.
        await run.target.adapter.drained?.();
      });
      expect(calls.length, "no IdP call was published on core's idp-call channel").toBeGreaterThan(0);
      const unnamed = calls.filter((call) => call.route === 'other');
      expect(
        unnamed,
        `IdP calls measured as route "other" (build their paths with path\`…\`, or name a route): ${calls.map((call) => `${call.method} ${call.route}`).join(', ')}`,
      ).toEqual([]);
    });
  });
}

/**
 * The IdP calls that core's HTTP client published (`CHANNELS.idpCall`, one message per attempt) while `work` ran:
 * the route each was measured by, never a path.
 */
async function idpCallsOf(work: () => Promise<void>): Promise<IdpCallMessage[]> {
  const calls: IdpCallMessage[] = [];
  const listener = (message: unknown) => void calls.push(message as IdpCallMessage);
  subscribe(CHANNELS.idpCall, listener);
  try {
    await work();
  } finally {
    unsubscribe(CHANNELS.idpCall, listener);
  }
  return calls;
}

/**
 * Whether a request line (`METHOD /path?query`, as the fake received it) carries the client id whole: as
 * one path segment or one query value. A traversal or a slash that escaped its segment leaves no part
 * equal to the id. The path is read raw: URL parsing would resolve "." segments the IdP never saw.
 */
function carriesWhole(line: string, clientId: string): boolean {
  const target = line.slice(line.indexOf(' ') + 1);
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt + 1);
  return path.split('/').some((segment) => decoded(segment) === clientId) || [...new URLSearchParams(query).values()].includes(clientId);
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
