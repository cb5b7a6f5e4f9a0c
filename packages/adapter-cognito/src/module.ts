import { defineAdapterSettings, setting, type AdapterModule, type SettingsOptions } from '@dcr-bridge/core';
import { createCognitoAdapter, type CognitoAdapterOptions } from './adapter.js';
import { ADAPTER_ID, SETTINGS_PREFIX } from './identity.js';
import { MIXED_FLOW_POLICIES } from './mapping.js';

/** The settings, named `COGNITO_…` (and the SDK's `AWS_REGION`): what the server reads and the README's configuration reference shows. */
const settings = defineAdapterSettings({
  prefix: SETTINGS_PREFIX,
  settings: {
    userPoolId: setting.text('USER_POOL_ID', {
      required: true,
      valid: { test: /^[\w-]+_[0-9a-zA-Z]+$/, expected: 'a user pool id such as us-east-1_AbCdEf123' },
      doc: 'e.g. `eu-west-1_AbCdEf123`',
    }),
    region: setting.text('REGION', { defaultText: '`AWS_REGION`', doc: "the pool's region, when it is not `AWS_REGION`" }),
    awsRegion: setting.text('AWS_REGION', {
      unprefixed: true,
      optionText: '`region`',
      doc: "the AWS SDK's region: the pool's, unless `COGNITO_REGION` says otherwise. One of the two is required",
    }),
    endpoint: setting.url('ENDPOINT', {
      defaultText: 'the regional endpoint',
      doc: 'an emulator or a VPC endpoint; `https://` only, unless `COGNITO_ALLOW_INSECURE_HTTP`',
    }),
    mixedFlows: setting.oneOf('MIXED_FLOWS', MIXED_FLOW_POLICIES, {
      default: 'reject',
      doc: 'when Konnect asks for client_credentials **and** a browser flow (see below): `reject`, `client_credentials_only`, `browser_flows_only`',
    }),
    defaultScopes: setting.list('DEFAULT_SCOPES', { doc: 'comma-separated scopes for applications whose request carries none' }),
    namePrefix: setting.text('CLIENT_NAME_PREFIX', {
      default: 'konnect-',
      valid: { test: /^[\w\s+=,.@-]{1,40}$/, expected: '1–40 characters of letters, digits, spaces and +=,.@_-' },
      doc: 'start of every app client name the bridge creates (the ownership marker)',
    }),
  },
  check: ({ region, awsRegion }) => ((region ?? awsRegion) ? [] : ["Set AWS_REGION (or COGNITO_REGION) to the user pool's region."]),
  options: ({ region, awsRegion, userPoolId, endpoint, namePrefix, mixedFlows, defaultScopes, timeoutMs }) => ({
    userPoolId,
    region: region ?? awsRegion ?? '',
    endpoint,
    namePrefix,
    mixedFlows,
    defaultScopes,
    timeoutMs,
  }),
});

/** The adapter as the server loads it: app clients of an Amazon Cognito user pool. AWS credentials come from the SDK's chain. */
export const dcrBridgeAdapter: AdapterModule<Omit<SettingsOptions<CognitoAdapterOptions>, 'client' | 'credentials'>> = {
  id: ADAPTER_ID,
  settings,
  create: async (options, context) => createCognitoAdapter({ ...options, logger: context.logger, ...(await context.openLifecycle()) }),
};
