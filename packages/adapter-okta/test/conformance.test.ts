import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { createOktaAdapter } from '../src/index.js';
import { startOrg } from './setup.js';

for (const mode of ['OAuth 2.0 for Okta (private_key_jwt, JWK)', 'API token (SSWS)'] as const) {
  let org: Awaited<ReturnType<typeof startOrg>>;
  const logger = createCapturingLogger();
  runConformanceSuite({
    name: `okta (fake org), ${mode}`,
    async setup() {
      org = await startOrg();
      const auth = mode.startsWith('API') ? { apiToken: org.okta.apiToken } : { clientId: org.okta.serviceApp.clientId, privateKey: org.jwk };
      return { adapter: createOktaAdapter({ domain: org.okta.url, auth, logger }), backdoor: org.backdoor, faults: org.okta.faults, logger, hiddenValues: [org.okta.apiToken, (JSON.parse(org.jwk) as { d: string }).d] };
    },
    teardown: () => org.okta.close(),
  });
}
