import { describe, expect } from 'vitest';
import type { CapturingLogger } from '../capturing-logger.js';
import { konnectEvent } from '../payloads.js';
import { required } from './scenarios.js';
import { clientPath, type SuiteRun } from './run.js';

/** What reaches the logs: never a secret. */
export function logsGroup(run: SuiteRun): void {
  describe('logs', () => {
    run.scenario('logs/no-secrets', async (ctx) => {
      const logger = run.target.logger as Partial<CapturingLogger> | undefined;
      const text = required(logger?.text, 'logger (a capturing logger: createCapturingLogger)', 'logs/no-secrets');
      // A client of its own, through every operation the adapter has, so that the check stands alone.
      const { clientId } = await run.createClient(ctx);
      const { capabilities } = run.target.adapter;
      if (capabilities.rotateSecret) expect((await run.call('POST', clientPath(clientId, '/new-secret'))).status).toBe(200);
      if (capabilities.updateRedirectUris) {
        const update = konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/logged'] });
        expect((await run.call('POST', clientPath(clientId, '/event-hook'), { body: update })).status).toBe(200);
      }
      expect((await run.call('DELETE', clientPath(clientId))).status).toBe(204);
      const logged = text();
      expect(logged.length).toBeGreaterThan(0);
      for (const secret of [...run.issuedSecrets, ...(run.target.hiddenValues ?? [])]) expect(logged).not.toContain(secret);
    });
  });
}
