import { describe, expect } from 'vitest';
import { konnectEvent } from '../payloads.js';
import { clientPath, type SuiteRun } from './run.js';

/** Two or three Konnect calls on one client at once. */
export function racesGroup(run: SuiteRun): void {
  const { scenario } = run;
  const capabilities = () => run.target.adapter.capabilities;
  const adapterId = () => run.target.adapter.id;

  describe('races', () => {
    scenario('races/rotate-and-update', async (ctx) => {
      if (!capabilities().rotateSecret || !capabilities().updateRedirectUris)
        return ctx.skip(`${adapterId()} does not announce both rotateSecret and updateRedirectUris`);
      const { clientId, secret } = await run.createClient(ctx);
      let current = secret;
      for (let round = 0; round < 10; round++) {
        // A round of its own where the target takes any URIs; the target's own where it names them.
        const redirectUris = run.target.updatedRedirectUris ?? [`https://app.example.com/race-${round}`];
        const [rotated, updated] = await Promise.all([
          run.call('POST', clientPath(clientId, '/new-secret')),
          run.call('POST', clientPath(clientId, '/event-hook'), {
            body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: redirectUris }),
          }),
        ]);
        expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
        expect(updated.status, JSON.stringify(updated.body)).toBe(200);
        // The old secret is retired once Konnect's connection took the answer (two-secrets IdPs): just after it.
        await run.target.adapter.drained?.();
        expect(await run.target.backdoor.canGetToken(clientId, current)).toBe(false);
        expect(await run.target.backdoor.canGetToken(clientId, rotated.body.client_secret)).toBe(true);
        expect(await run.target.backdoor.redirectUris(clientId)).toEqual(redirectUris);
        current = rotated.body.client_secret;
      }
    });

    scenario('races/two-rotations', async (ctx) => {
      if (!capabilities().rotateSecret) return ctx.skip(`${adapterId()} does not announce rotateSecret`);
      const { clientId, secret } = await run.createClient(ctx);
      const answers = await Promise.all([1, 2].map(() => run.call('POST', clientPath(clientId, '/new-secret'))));
      for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      await run.target.adapter.drained?.();
      const working = await Promise.all(answers.map((answer) => run.target.backdoor.canGetToken(clientId, answer.body.client_secret)));
      expect(working.filter(Boolean)).toHaveLength(1);
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(false);
    });

    scenario('races/delete-rotate-update', async (ctx) => {
      const { clientId, secret } = await run.createClient(ctx);
      const [deleted, rotated, updated] = await Promise.all([
        run.call('DELETE', clientPath(clientId)),
        run.call('POST', clientPath(clientId, '/new-secret')),
        run.call('POST', clientPath(clientId, '/event-hook'), {
          body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/late'] }),
        }),
      ]);
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
      for (const answer of [rotated, updated]) expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
      expect(await run.target.backdoor.clientExists(clientId)).toBe(false);
      expect(await run.target.backdoor.canGetToken(clientId, secret)).toBe(false);
      if (rotated.status === 200) expect(await run.target.backdoor.canGetToken(clientId, rotated.body.client_secret)).toBe(false);
    });
  });
}
