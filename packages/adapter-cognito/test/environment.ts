import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  CreateUserPoolDomainCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
  UpdateUserPoolClientCommand,
  type UpdateUserPoolClientCommandInput,
} from '@aws-sdk/client-cognito-identity-provider';
import type { ConformanceBackdoor } from '@dcr-bridge/conformance';
import { startCognitoLocal, type CognitoLocal } from './cognito-local.js';
import { startCognitoProxy, type CognitoProxy } from './cognito-proxy.js';

/** cognito-local behind the faithful proxy, a user pool with resource-server scopes, and a backdoor. */
export interface CognitoEnvironment {
  local: CognitoLocal;
  proxy: CognitoProxy;
  sdk: CognitoIdentityProviderClient;
  userPoolId: string;
  backdoor: ConformanceBackdoor;
  stop(): Promise<void>;
}

/** `domain`: a Cognito prefix domain for the pool, as a pool serving client_credentials has (the doctor checks it). */
export async function startCognitoEnvironment(options: { domain?: string } = {}): Promise<CognitoEnvironment> {
  const local = await startCognitoLocal();
  const proxy = await startCognitoProxy(local.url, ['orders/read', 'orders/write']);
  const sdk = new CognitoIdentityProviderClient({
    region: 'eu-west-1',
    endpoint: proxy.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const pool = await sdk.send(new CreateUserPoolCommand({ PoolName: 'konnect-developers' }));
  const userPoolId = pool.UserPool?.Id as string;
  if (options.domain !== undefined) await sdk.send(new CreateUserPoolDomainCommand({ UserPoolId: userPoolId, Domain: options.domain }));
  const describe = async (clientId: string) => {
    try {
      return (await sdk.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }))).UserPoolClient;
    } catch {
      return undefined;
    }
  };
  return {
    local,
    proxy,
    sdk,
    userPoolId,
    backdoor: {
      async canGetToken(clientId, secret) {
        const res = await fetch(`${proxy.url}/oauth2/token?user_pool_id=${userPoolId}`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
        });
        return res.ok;
      },
      clientExists: async (clientId) => (await describe(clientId)) !== undefined,
      redirectUris: async (clientId) => (await describe(clientId))?.CallbackURLs ?? [],
      async createForeignClient() {
        const created = await sdk.send(
          new CreateUserPoolClientCommand({
            UserPoolId: userPoolId,
            ClientName: 'partner-integration',
            GenerateSecret: true,
            AllowedOAuthFlowsUserPoolClient: true,
            AllowedOAuthFlows: ['client_credentials'],
            AllowedOAuthScopes: ['orders/read'],
            CallbackURLs: ['https://foreign.example.com/cb'],
          }),
        );
        return created.UserPoolClient?.ClientId as string;
      },
      // The sign-out URLs, which the bridge never sets: UpdateUserPoolClient resets what it is not given, so the
      // update sends the whole configuration back. Changed as an administrator does, with the whole configuration.
      adminSetting: {
        async set(clientId, value) {
          const current = (await describe(clientId)) as Record<string, unknown>;
          for (const field of ['ClientSecret', 'CreationDate', 'LastModifiedDate']) delete current[field];
          await sdk.send(
            new UpdateUserPoolClientCommand({
              ...(current as unknown as UpdateUserPoolClientCommandInput),
              LogoutURLs: [`https://logout.example.com/${value}`],
            }),
          );
        },
        get: async (clientId) => (await describe(clientId))?.LogoutURLs?.[0]?.replace('https://logout.example.com/', ''),
      },
      async countClients() {
        let count = 0;
        let next: string | undefined;
        do {
          const page = await sdk.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken: next }));
          count += page.UserPoolClients?.length ?? 0;
          next = page.NextToken;
        } while (next);
        return count;
      },
    },
    async stop() {
      sdk.destroy();
      await proxy.close();
      await local.stop();
    },
  };
}
