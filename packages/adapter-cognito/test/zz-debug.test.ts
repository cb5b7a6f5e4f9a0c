import { auditLedger, runKonnectLoad, startBridge } from '@dcr-bridge/conformance';
import { it } from 'vitest';
import { createCognitoAdapter } from '../src/index.js';
import { startCognitoEnvironment } from './environment.js';

it('debug', { timeout: 600_000 }, async () => {
  const env = await startCognitoEnvironment();
  const adapter = createCognitoAdapter({ userPoolId: env.userPoolId, region: 'eu-west-1', endpoint: env.proxy.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const harness = await startBridge(adapter, { operationTimeoutMs: 1200, completionTimeoutMs: 5000 });
  const t0 = Date.now();
  const log = (m: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s ${m}`);
  for (let round = 0; round < 6; round++) {
    const seed = 1000 + round;
    const baseline = await env.backdoor.countClients();
    env.proxy.faults.injectFaults({ rate: 0.2, delayMs: [800, 2000], seed });
    log(`round ${round} load`);
    const stuck = setTimeout(() => log(`STUCK in round ${round}: faults ${JSON.stringify(env.proxy.faults.faults.slice(-12))}`), 60_000);
    const ledger = await runKonnectLoad({ call: harness.call, operations: 80, concurrency: 8, application: { scopes: ['orders/read'] }, budgetMs: 1700, seed });
    log(`loaded ${JSON.stringify(ledger.answers)}`);
    env.proxy.faults.injectFaults(undefined);
    await env.proxy.faults.settle();
    log('settled');
    await adapter.drained?.();
    log('drained');
    const report = await auditLedger(ledger, env.backdoor, harness.call, baseline);
    log(`audited ${JSON.stringify(report)}`);
    await adapter.drained?.();
    clearTimeout(stuck);
  }
  await harness.close();
  await adapter.close?.();
  await env.stop();
});
