import { exportJWK, generateKeyPair } from 'jose';
import { createCapturingLogger, runConformanceSuite, type ConformanceIdpPlumbing } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { afterAll } from 'vitest';
import { createOktaAdapter } from '../src/index.js';
import { startOrg } from './setup.js';
import { createOktaApiDescription } from './vendor/okta-api.js';

// One description for every scenario's org: every request the adapter sent and every answer a fake gave, against
// Okta's pinned API descriptions.
const api = createOktaApiDescription();
afterAll(() => api.expectNoProblems());

const modes = {
  oauth: 'OAuth 2.0 for Okta (private_key_jwt, JWK)',
  apiToken: 'API token (SSWS)',
} as const;

for (const mode of Object.keys(modes) as Array<keyof typeof modes>) {
  let org: Awaited<ReturnType<typeof startOrg>>;
  const logger = createCapturingLogger();
  runConformanceSuite({
    name: `okta (fake org), ${modes[mode]}`,
    async setup() {
      org = await startOrg({ api });
      const auth = mode === 'apiToken' ? { apiToken: org.okta.apiToken } : { clientId: org.okta.serviceApp.clientId, privateKey: org.jwk };
      // Okta answers a rate-limited request 429 E0000047 and says when the limit resets (epoch seconds), not how long to wait.
      const rateLimitNext = (method: string, path: RegExp, seconds: number) =>
        org.okta.failNext(
          method,
          path,
          429,
          {
            errorCode: 'E0000047',
            errorSummary: 'API call exceeded rate limit due to too many requests.',
            errorLink: 'E0000047',
            errorId: 'oaeRateLimited',
            errorCauses: [],
          },
          {
            'x-rate-limit-limit': '100',
            'x-rate-limit-remaining': '0',
            'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + seconds),
          },
        );
      const idp: ConformanceIdpPlumbing = {
        adminRequests: () => org.okta.requests.filter((line) => !line.startsWith('POST /oauth2/v1/token')),
        rateLimitNextCreate: (seconds) => (rateLimitNext('POST', /^\/api\/v1\/apps$/, seconds), seconds),
        rateLimitNextLookup: (seconds) => rateLimitNext('GET', /^\/api\/v1\/apps\//, seconds),
      };
      if (mode === 'apiToken') {
        idp.refusedCredentials = () => ({
          adapter: createOktaAdapter({ domain: org.okta.url, auth: { apiToken: 'not-the-token' }, logger }),
          secret: 'not-the-token',
        });
      } else {
        // A key pair Okta does not know for the service app: its client assertions are refused.
        const unknownKey = JSON.stringify({
          ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)),
          alg: 'RS256',
        });
        idp.refusedCredentials = () => ({
          adapter: createOktaAdapter({
            domain: org.okta.url,
            auth: { clientId: org.okta.serviceApp.clientId, privateKey: unknownKey },
            logger,
          }),
          secret: (JSON.parse(unknownKey) as { d: string }).d,
        });
        // The cold adapter signs with the PEM form of the key, under a key id.
        idp.coldAdapter = () =>
          createOktaAdapter({
            domain: org.okta.url,
            auth: { clientId: org.okta.serviceApp.clientId, privateKey: org.pem, keyId: 'bridge-key-1' },
            logger,
          });
        idp.adminTokensIssued = () => org.okta.tokenRequests();
      }
      return {
        adapter: createOktaAdapter({ domain: org.okta.url, auth, logger }),
        // The same org and credentials, with the journal, vault and overlap the rotation group gives (a restart, a replica).
        callBudget,
        build: (settings) => createOktaAdapter({ domain: org.okta.url, auth, logger, ...settings }),
        // Two-phase rotation: the new secret is the one this POST adds beside the old.
        rotationRequest: { method: 'POST', path: /^\/api\/v1\/apps\/[^/]+\/credentials\/secrets$/ },
        backdoor: org.backdoor,
        faults: org.okta.faults,
        logger,
        hiddenValues: [org.okta.apiToken, (JSON.parse(org.jwk) as { d: string }).d],
        idp,
      };
    },
    teardown: () => org.okta.close(),
    skip: {
      'contract/unknown-scope':
        "Okta apps hold no scope list: the custom authorization server's access policies grant scopes at token time, so a create cannot refuse an unknown scope",
      ...(mode === 'apiToken' && {
        'idp-plumbing/one-admin-token': 'an API token (SSWS) goes as it is in every request: the bridge never requests an admin token',
      }),
    },
  });
}
