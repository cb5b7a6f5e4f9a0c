import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { idpTargets, type AdapterId, type IdpTarget } from '../test/idp-targets.js';
import { startOktaStub } from './stub-okta.js';
import { startStubIdp } from './stub-idp.js';

/**
 * The IdP side of `pnpm bench`, in its own process so that the bridge's CPU and memory are measured alone:
 * `rfc7591` and `okta` get minimal stubs (stub-idp.ts, stub-okta.ts: the latter also serves Kong's example
 * bridge); every other adapter the in-memory fake of its admin API that its own tests run against (the same
 * one the adapter's call-count tests read), with no fault injected. The fakes check more and cost more CPU,
 * which the saturated runs share with the bridge. Prints one JSON line, `{env, application, control}`, then serves until SIGTERM.
 * `GET {control}/requests?since=N` answers the IdP requests seen since the N-th, for counting round trips.
 */
const adapter = process.argv[2] as AdapterId;
if (!(adapter in idpTargets)) throw new Error(`unknown adapter ${adapter}`);

const minimal = { rfc7591: startStubIdp, okta: startOktaStub } as Partial<
  Record<AdapterId, () => Promise<Pick<IdpTarget, 'env' | 'application' | 'requests' | 'close'>>>
>;
const target: Pick<IdpTarget, 'env' | 'application' | 'requests' | 'close'> = await (minimal[adapter] ?? idpTargets[adapter])();
const control = createServer((req, res) => {
  const since = Number(new URL(req.url ?? '/', 'http://control').searchParams.get('since') ?? 0);
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ total: target.requests().length, requests: target.requests().slice(since) }));
});
control.listen(0, '127.0.0.1', () => {
  const { port } = control.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ env: target.env, application: target.application, control: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  control.close();
  void target.close().finally(() => process.exit(0));
});
