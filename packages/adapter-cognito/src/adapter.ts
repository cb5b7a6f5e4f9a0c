import {
  AddUserPoolClientSecretCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DeleteUserPoolClientSecretCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListUserPoolClientSecretsCommand,
  ListUserPoolClientsCommand,
  UpdateUserPoolClientCommand,
  type ClientSecretDescriptorType,
  type CognitoIdentityProviderClientConfig,
  type UpdateUserPoolClientCommandInput,
  type UserPoolClientType,
} from '@aws-sdk/client-cognito-identity-provider';
import { BridgeError, defineDcrAdapter, withRetries, type DcrAdapter, type IdpPrimitives, type Logger, type OperationContext, type StateStore } from '@dcr-bridge/core';
import { checkAuthMethod, clientName, isManaged, oauthFlows, type AppClientSettings, type MixedFlowPolicy } from './app-client.js';
import { fromAwsError } from './errors.js';

export interface CognitoAdapterOptions extends Partial<AppClientSettings> {
  userPoolId: string;
  region: string;
  /** An emulator or a VPC endpoint; default the regional endpoint. */
  endpoint?: string;
  /** Default: the SDK's provider chain (environment, profile, web identity, instance role). */
  credentials?: CognitoIdentityProviderClientConfig['credentials'];
  /** An injected SDK client (tests). */
  client?: CognitoIdentityProviderClient;
  mixedFlows?: MixedFlowPolicy;
  /** Where open creates are journaled (core's lifecycle); default in memory. The server keeps it in the store file. */
  journal?: StateStore;
  /** For core's lifecycle (cleanup and recovery); Cognito calls log through each request's logger. */
  logger?: Logger;
}

/** Describe's fields that UpdateUserPoolClient does not take. */
const READ_ONLY = ['ClientSecret', 'CreationDate', 'LastModifiedDate'] as const;

/** The most app clients one ListUserPoolClients page may hold. */
const PAGE_SIZE = 60;

export function createCognitoAdapter(options: CognitoAdapterOptions): DcrAdapter {
  const settings: AppClientSettings = { namePrefix: options.namePrefix ?? 'konnect-', mixedFlows: options.mixedFlows ?? 'reject', defaultScopes: options.defaultScopes ?? [] };
  // The SDK would retry throttled creates too; the bridge retries only what is safe to repeat.
  const cognito = options.client ?? new CognitoIdentityProviderClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: 1 });
  const pool = { UserPoolId: options.userPoolId };

  /** Sends a command; `safe` ones are retried with backoff when Cognito throttles. */
  async function send<T>(action: string, context: OperationContext, run: (signal: AbortSignal) => Promise<T>, safe: boolean): Promise<T> {
    try {
      return await withRetries(() => run(context.signal), {
        policy: safe ? {} : { retries: 0 },
        signal: context.signal,
        classify: (outcome) => ({ retry: 'error' in outcome && (outcome.error as { name?: string }).name === 'TooManyRequestsException' }),
      });
    } catch (error) {
      throw fromAwsError(error, action);
    }
  }

  async function secrets(clientId: string, context: OperationContext): Promise<ClientSecretDescriptorType[]> {
    const all: ClientSecretDescriptorType[] = [];
    let next: string | undefined;
    do {
      const page = await send('listing the client secrets', context, (abortSignal) => cognito.send(new ListUserPoolClientSecretsCommand({ ...pool, ClientId: clientId, NextToken: next }), { abortSignal }), true);
      all.push(...(page.ClientSecrets ?? []));
      next = page.NextToken;
    } while (next);
    return all.sort((a, b) => (a.ClientSecretCreateDate?.getTime() ?? 0) - (b.ClientSecretCreateDate?.getTime() ?? 0));
  }

  async function deleteSecret(clientId: string, secretId: string, context: OperationContext): Promise<void> {
    await send('deleting an old client secret', context, (abortSignal) => cognito.send(new DeleteUserPoolClientSecretCommand({ ...pool, ClientId: clientId, ClientSecretId: secretId }), { abortSignal }), true);
  }

  const primitives: IdpPrimitives<UserPoolClientType> = {
    id: 'cognito',
    idpName: `Cognito user pool ${options.userPoolId}`,
    marker: `ClientName starting with "${settings.namePrefix}"`,

    async find(clientId, context) {
      try {
        const output = await send('reading the app client', context, (abortSignal) => cognito.send(new DescribeUserPoolClientCommand({ ...pool, ClientId: clientId }), { abortSignal }), true);
        return output.UserPoolClient;
      } catch (error) {
        if (error instanceof BridgeError && error.code === 'not_found') return undefined;
        throw error;
      }
    },

    isOurs: (client) => isManaged(client, settings),

    async create(registration, context) {
      checkAuthMethod(registration);
      const flows = oauthFlows(registration, settings, context.logger);
      const scopes = registration.scopes.length > 0 ? registration.scopes : settings.defaultScopes;
      if (flows.length > 0 && scopes.length === 0) {
        throw new BridgeError('invalid_scope', 'Cognito OAuth app clients need at least one scope: give the auth strategy scopes in Konnect, or set COGNITO_DEFAULT_SCOPES.');
      }
      const browser = flows.some((flow) => flow !== 'client_credentials');
      // One call creates the client and its secret.
      const output = await send('creating the app client', context, (abortSignal) =>
        cognito.send(
          new CreateUserPoolClientCommand({
            ...pool,
            ClientName: clientName(registration.clientName, context.nonce, settings),
            GenerateSecret: true,
            AllowedOAuthFlowsUserPoolClient: flows.length > 0,
            AllowedOAuthFlows: flows,
            AllowedOAuthScopes: scopes,
            CallbackURLs: registration.redirectUris.length > 0 ? registration.redirectUris : undefined,
            SupportedIdentityProviders: browser ? ['COGNITO'] : undefined,
            ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
            EnableTokenRevocation: true,
            PreventUserExistenceErrors: 'ENABLED',
          }),
          { abortSignal },
        ),
        false,
      );
      const client = output.UserPoolClient;
      if (!client?.ClientId || !client.ClientSecret) throw new BridgeError('idp_error', 'Cognito created the app client without an id or a secret.');
      return { clientId: client.ClientId, clientSecret: client.ClientSecret, clientIdIssuedAt: client.CreationDate };
    },

    async findByNonce(nonce, draft, context) {
      // Cognito cannot look a client up by name: page through the pool's clients for the exact name.
      const name = clientName(draft.clientName, nonce, settings);
      let next: string | undefined;
      do {
        const page = await send('listing the app clients', context, (abortSignal) => cognito.send(new ListUserPoolClientsCommand({ ...pool, MaxResults: PAGE_SIZE, NextToken: next }), { abortSignal }), true);
        const found = page.UserPoolClients?.find((candidate) => candidate.ClientName === name);
        if (found?.ClientId) return { clientId: found.ClientId, client: found };
        next = page.NextToken;
      } while (next);
      return undefined;
    },

    async remove(clientId, _client, context) {
      try {
        await send('deleting the app client', context, (abortSignal) => cognito.send(new DeleteUserPoolClientCommand({ ...pool, ClientId: clientId }), { abortSignal }), true);
      } catch (error) {
        if (!(error instanceof BridgeError && error.code === 'not_found')) throw error;
      }
    },

    async rotateSecret(clientId, _client, context) {
      // At most two secrets can be active: make room first, always keeping one that works.
      const before = await secrets(clientId, context);
      for (const old of before.slice(0, Math.max(0, before.length - 1))) if (old.ClientSecretId) await deleteSecret(clientId, old.ClientSecretId, context);
      const added = await send('adding a client secret', context, (abortSignal) => cognito.send(new AddUserPoolClientSecretCommand({ ...pool, ClientId: clientId }), { abortSignal }), false);
      const fresh = added.ClientSecretDescriptor;
      if (!fresh?.ClientSecretValue || !fresh.ClientSecretId) throw new BridgeError('idp_error', 'Cognito added a client secret without returning it.');
      // Then the old secrets go, so the previous one stops working as Konnect expects.
      for (const old of await secrets(clientId, context)) if (old.ClientSecretId && old.ClientSecretId !== fresh.ClientSecretId) await deleteSecret(clientId, old.ClientSecretId, context);
      return fresh.ClientSecretValue;
    },

    async replaceRedirectUris(clientId, client, redirectUris, context) {
      // UpdateUserPoolClient resets every attribute it is not given: send the configuration find read back.
      // It takes no secret, so it cannot bring back one a rotation removed.
      const input = { ...client } as Record<string, unknown>;
      for (const field of READ_ONLY) delete input[field];
      await send('updating the callback URLs', context, (abortSignal) =>
        cognito.send(new UpdateUserPoolClientCommand({ ...(input as unknown as UpdateUserPoolClientCommandInput), ...pool, ClientId: clientId, CallbackURLs: redirectUris }), { abortSignal }),
        true,
      );
    },

    async checkReady(context) {
      try {
        await send('describing the user pool', context, (abortSignal) => cognito.send(new DescribeUserPoolCommand(pool), { abortSignal }), true);
        return { ready: true };
      } catch (error) {
        return { ready: false, detail: error instanceof Error ? error.message : String(error) };
      }
    },

    async close() {
      if (!options.client) cognito.destroy();
    },
  };
  return defineDcrAdapter(primitives, { journal: options.journal, logger: options.logger });
}
