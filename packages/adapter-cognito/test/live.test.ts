import { konnectApplication, startBridge } from '@dcr-bridge/conformance';
import { describe, expect, it } from 'vitest';
import { createCognitoAdapter } from '../src/index.js';

/**
 * Against a real user pool, only when its id and AWS credentials are in the environment:
 * COGNITO_LIVE_USER_POOL_ID, AWS_REGION, the SDK's credentials, and COGNITO_LIVE_SCOPE (a custom scope of
 * a resource server of that pool). It creates, rotates and deletes one app client.
 */
const poolId = process.env.COGNITO_LIVE_USER_POOL_ID;
const hasCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE || process.env.AWS_WEB_IDENTITY_TOKEN_FILE);
const reason = !poolId
  ? 'COGNITO_LIVE_USER_POOL_ID is not set'
  : !hasCredentials
    ? 'no AWS credentials in the environment'
    : !process.env.AWS_REGION
      ? 'AWS_REGION is not set'
      : '';

describe('cognito live', () => {
  it.skipIf(reason !== '')(
    `creates, rotates and deletes an app client in a real user pool${reason ? ` (skipped: ${reason})` : ''}`,
    async () => {
      const bridge = await startBridge(createCognitoAdapter({ userPoolId: poolId as string, region: process.env.AWS_REGION as string }));
      try {
        const created = await bridge.call('POST', '/', {
          body: konnectApplication({ scopes: [process.env.COGNITO_LIVE_SCOPE ?? 'dcr-bridge/test'] }),
        });
        expect(created.status).toBe(201);
        const rotated = await bridge.call('POST', `/${created.body.client_id}/new-secret`);
        expect(rotated.status).toBe(200);
        expect(rotated.body.client_secret).not.toBe(created.body.client_secret);
        expect((await bridge.call('DELETE', `/${created.body.client_id}`)).status).toBe(204);
      } finally {
        await bridge.close();
      }
    },
  );
});
