import type { AdapterModule } from '@dcr-bridge/core';
import { createCognitoAdapter, type CognitoAdapterOptions } from './adapter.js';
import { MIXED_FLOW_POLICIES } from './app-client.js';

/** `DCR_BRIDGE_ADAPTER=cognito`: app clients of an Amazon Cognito user pool. AWS credentials come from the SDK's chain. */
export const dcrBridgeAdapter: AdapterModule<Omit<CognitoAdapterOptions, 'client' | 'credentials' | 'journal' | 'logger'>> = {
  id: 'cognito',
  readOptions(settings) {
    const region = settings.string('COGNITO_REGION') ?? settings.string('AWS_REGION');
    if (!region) settings.problem('Set AWS_REGION (or COGNITO_REGION) to the user pool\'s region.');
    const userPoolId = settings.string('COGNITO_USER_POOL_ID', { required: true }) ?? '';
    if (userPoolId && !/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId)) settings.problem(`COGNITO_USER_POOL_ID must look like us-east-1_AbCdEf123 (got "${userPoolId}").`);
    const namePrefix = settings.string('COGNITO_CLIENT_NAME_PREFIX', { default: 'konnect-' }) ?? 'konnect-';
    if (!/^[\w\s+=,.@-]{1,40}$/.test(namePrefix)) settings.problem('COGNITO_CLIENT_NAME_PREFIX must be 1–40 characters of letters, digits, spaces and +=,.@_-.');
    return {
      userPoolId,
      region: region ?? '',
      endpoint: settings.url('COGNITO_ENDPOINT', { allowHttp: true }),
      namePrefix,
      mixedFlows: settings.oneOf('COGNITO_MIXED_FLOWS', MIXED_FLOW_POLICIES, { default: 'reject' }),
      defaultScopes: settings.list('COGNITO_DEFAULT_SCOPES'),
      timeoutMs: settings.integer('COGNITO_TIMEOUT_MS', { default: 30_000, min: 100, max: 120_000 }),
    };
  },
  create: async (options, context) => createCognitoAdapter({ ...options, logger: context.logger, journal: await context.openJournal() }),
};
