import { readSharedAdapterSettings, type AdapterModule, type LifecycleSettings } from '@dcr-bridge/core';
import { createCognitoAdapter, type CognitoAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';
import { MIXED_FLOW_POLICIES } from './mapping.js';

/** The adapter as the server loads it: app clients of an Amazon Cognito user pool. AWS credentials come from the SDK's chain. */
export const dcrBridgeAdapter: AdapterModule<Omit<CognitoAdapterOptions, 'client' | 'credentials' | keyof LifecycleSettings | 'logger'>> = {
  id: ADAPTER_ID,
  readOptions(root) {
    const settings = root.scoped(SETTINGS_PREFIX);
    // AWS_REGION is the SDK's own setting, outside the adapter's prefix.
    const region = settings.string('REGION') ?? root.string('AWS_REGION');
    if (!region) settings.problem("Set AWS_REGION (or COGNITO_REGION) to the user pool's region.");
    const userPoolId = settings.string('USER_POOL_ID', { required: true }) ?? '';
    if (userPoolId && !/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId))
      settings.problem(`COGNITO_USER_POOL_ID must look like us-east-1_AbCdEf123 (got "${userPoolId}").`);
    const namePrefix = settings.string('CLIENT_NAME_PREFIX', { default: 'konnect-' }) ?? 'konnect-';
    if (!/^[\w\s+=,.@-]{1,40}$/.test(namePrefix))
      settings.problem('COGNITO_CLIENT_NAME_PREFIX must be 1–40 characters of letters, digits, spaces and +=,.@_-.');
    return {
      userPoolId,
      region: region ?? '',
      endpoint: settings.url('ENDPOINT'),
      namePrefix,
      mixedFlows: settings.oneOf('MIXED_FLOWS', MIXED_FLOW_POLICIES, { default: 'reject' }),
      defaultScopes: settings.list('DEFAULT_SCOPES'),
      ...readSharedAdapterSettings(settings),
    };
  },
  create: async (options, context) => createCognitoAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
