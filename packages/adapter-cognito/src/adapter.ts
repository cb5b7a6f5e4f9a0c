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
  type CognitoIdentityProviderClientConfig,
  type UpdateUserPoolClientCommandInput,
  type UserPoolClientType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  BridgeError,
  defineDcrAdapter,
  notReady,
  type DcrAdapter,
  type IdpPrimitives,
  type OperationContext,
  lifecycleSettings,
  type CommonAdapterOptions,
} from '@dcr-bridge/core';
import { withRetries } from '@dcr-bridge/core/idp';
import { REGISTRATION, clientName, isManaged, oauthFlows, type AppClientSettings, type MixedFlowPolicy } from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import { createCognitoDiagnostics } from './diagnostics.js';
import { fromAwsError } from './errors.js';

/** Cognito's calls go through the AWS SDK, not undici: there is no `dispatcher`. */
export interface CognitoAdapterOptions extends Partial<AppClientSettings>, Omit<CommonAdapterOptions, 'dispatcher'> {
  userPoolId: string;
  region: string;
  /** An emulator or a VPC endpoint; default the regional endpoint. */
  endpoint?: string;
  /** Default: the SDK's provider chain (environment, profile, web identity, instance role). */
  credentials?: CognitoIdentityProviderClientConfig['credentials'];
  /** An injected SDK client (tests). */
  client?: CognitoIdentityProviderClient;
  mixedFlows?: MixedFlowPolicy;
}

/** Describe's fields that UpdateUserPoolClient does not take (find leaves out ClientSecret already). */
const READ_ONLY = ['CreationDate', 'LastModifiedDate'] as const;

/** The most app clients one ListUserPoolClients page may hold. */
const PAGE_SIZE = 60;

/** Cognito keeps at most two secrets per app client (AddUserPoolClientSecret: "up to 2 active secrets"). */
const MAX_SECRETS = 2;

/**
 * Cognito's app client ids (ClientIdType in AWS's model: 1–128 of `[\w+]`). Cognito refuses any other id with
 * InvalidParameterException before looking, so such an id is no client of Cognito's: not found, with no call.
 */
const CLIENT_ID = /^[\w+]{1,128}$/;

/** Sockets to Cognito at most at once, kept alive between calls. */
const MAX_SOCKETS = 50;

/** The app client without its secret: what core may remember holds no credential. */
function withoutSecret(client: UserPoolClientType): UserPoolClientType {
  const { ClientSecret: _secret, ...rest } = client;
  return rest;
}

export function createCognitoAdapter(options: CognitoAdapterOptions): DcrAdapter {
  const settings: AppClientSettings = {
    namePrefix: options.namePrefix ?? 'konnect-',
    mixedFlows: options.mixedFlows ?? 'reject',
    defaultScopes: options.defaultScopes ?? [],
  };
  const timeoutMs = options.timeoutMs ?? 30_000;
  const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
  // The SDK would retry throttled creates too; the bridge retries only what is safe to repeat. Its own HTTP
  // handler (NodeHttpHandler, built from these options) keeps a pool of kept-alive sockets per client.
  const cognito =
    options.client ??
    new CognitoIdentityProviderClient({
      region: options.region,
      endpoint: options.endpoint,
      credentials: options.credentials,
      maxAttempts: 1,
      requestHandler: {
        httpsAgent: agent,
        httpAgent: agent,
        connectionTimeout: Math.min(timeoutMs, 10_000),
        requestTimeout: timeoutMs,
        throwOnRequestTimeout: true,
      },
    });
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

  const primitives: IdpPrimitives<UserPoolClientType> = {
    id: ADAPTER_ID,
    idpName: `${IDP_NAME} user pool ${options.userPoolId}`,
    marker: `ClientName starting with "${settings.namePrefix}"`,

    async find(clientId, context) {
      if (!CLIENT_ID.test(clientId)) return undefined;
      try {
        const output = await send(
          'reading the app client',
          context,
          (abortSignal) => cognito.send(new DescribeUserPoolClientCommand({ ...pool, ClientId: clientId }), { abortSignal }),
          true,
        );
        return output.UserPoolClient && withoutSecret(output.UserPoolClient);
      } catch (error) {
        if (error instanceof BridgeError && error.code === 'not_found') return undefined;
        throw error;
      }
    },

    isOurs: (client) => isManaged(client, settings),
    registration: REGISTRATION,

    async create(registration, context) {
      const flows = oauthFlows(registration, settings, context.logger);
      const scopes = registration.scopes.length > 0 ? registration.scopes : settings.defaultScopes;
      if (flows.length > 0 && scopes.length === 0) {
        throw new BridgeError(
          'invalid_scope',
          `${IDP_NAME} OAuth app clients need at least one scope: give the auth strategy scopes in Konnect, or set the adapter's defaultScopes.`,
        );
      }
      const browser = flows.some((flow) => flow !== 'client_credentials');
      // One call creates the client and its secret.
      const output = await send(
        'creating the app client',
        context,
        (abortSignal) =>
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
      if (!client?.ClientId) throw new BridgeError('idp_error', `${IDP_NAME} created the app client without an id.`);
      // The answer is the client as DescribeUserPoolClient shows it: core remembers it, so a rotate or delete right after reads nothing.
      await context.created(client.ClientId, withoutSecret(client));
      if (!client.ClientSecret) throw new BridgeError('idp_error', `${IDP_NAME} created the app client without a secret.`);
      return { clientId: client.ClientId, clientSecret: client.ClientSecret, clientIdIssuedAt: client.CreationDate };
    },

    async findByNonce(nonce, draft, context) {
      // Cognito cannot look a client up by name: page through the pool's clients for the exact name.
      const name = clientName(draft.clientName, nonce, settings);
      let next: string | undefined;
      do {
        const page = await send(
          'listing the app clients',
          context,
          (abortSignal) =>
            cognito.send(new ListUserPoolClientsCommand({ ...pool, MaxResults: PAGE_SIZE, NextToken: next }), { abortSignal }),
          true,
        );
        const found = page.UserPoolClients?.find((candidate) => candidate.ClientName === name);
        if (found?.ClientId) return { clientId: found.ClientId, client: found };
        next = page.NextToken;
      } while (next);
      return undefined;
    },

    async remove(clientId, _client, context) {
      try {
        await send(
          'deleting the app client',
          context,
          (abortSignal) => cognito.send(new DeleteUserPoolClientCommand({ ...pool, ClientId: clientId }), { abortSignal }),
          true,
        );
      } catch (error) {
        if (!(error instanceof BridgeError && error.code === 'not_found')) throw error;
      }
    },

    // Two-phase rotation: Cognito keeps up to two secrets per app client, each with an id
    // (`<client-id>--<epoch-create-time>`); core adds the new one and deletes the old one only once Konnect
    // got the new one (or when the overlap ends).
    secrets: {
      max: MAX_SECRETS,

      async list(clientId, _client, context) {
        // One call: Cognito answers with every secret (two at most) and no page token; never with their values.
        const listed = await send(
          'listing the client secrets',
          context,
          (abortSignal) => cognito.send(new ListUserPoolClientSecretsCommand({ ...pool, ClientId: clientId }), { abortSignal }),
          true,
        );
        return (listed.ClientSecrets ?? [])
          .flatMap((secret) =>
            secret.ClientSecretId
              ? [{ id: secret.ClientSecretId, ...(secret.ClientSecretCreateDate ? { createdAt: secret.ClientSecretCreateDate } : {}) }]
              : [],
          )
          .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
      },

      async add(clientId, _client, context) {
        // Not retried: a repeated add would leave a secret nobody holds (core lists and retires it if so).
        const added = await send(
          'adding a client secret',
          context,
          (abortSignal) => cognito.send(new AddUserPoolClientSecretCommand({ ...pool, ClientId: clientId }), { abortSignal }),
          false,
        );
        const fresh = added.ClientSecretDescriptor;
        if (!fresh?.ClientSecretValue || !fresh.ClientSecretId)
          throw new BridgeError('idp_error', `${IDP_NAME} added a client secret to client ${clientId} without returning it.`);
        return {
          id: fresh.ClientSecretId,
          ...(fresh.ClientSecretCreateDate ? { createdAt: fresh.ClientSecretCreateDate } : {}),
          secret: fresh.ClientSecretValue,
        };
      },

      async remove(clientId, _client, secretId, context) {
        try {
          await send(
            'deleting a client secret',
            context,
            (abortSignal) =>
              cognito.send(new DeleteUserPoolClientSecretCommand({ ...pool, ClientId: clientId, ClientSecretId: secretId }), {
                abortSignal,
              }),
            true,
          );
        } catch (error) {
          // The secret (or its client) is gone already.
          if (error instanceof BridgeError && error.code === 'not_found') return;
          // Cognito never deletes a client's last secret: nothing to do with Konnect's settings.
          if ((error as { cause?: { name?: string } }).cause?.name === 'InvalidParameterException')
            throw new BridgeError(
              'idp_error',
              `${IDP_NAME} refused to delete a secret of client ${clientId}: it is the client's last one.`,
              {
                cause: error,
              },
            );
          throw error;
        }
      },
    },

    async replaceRedirectUris(clientId, _remembered, redirectUris, context) {
      // UpdateUserPoolClient resets every attribute it is not given: send back the configuration as Cognito
      // holds it now (a remembered copy would undo an administrator's changes). It takes no secret, so it
      // cannot bring back one a rotation removed.
      const input = { ...(await context.current()) } as Record<string, unknown>;
      for (const field of READ_ONLY) delete input[field];
      await send(
        'updating the callback URLs',
        context,
        (abortSignal) =>
          cognito.send(
            new UpdateUserPoolClientCommand({
              ...(input as unknown as UpdateUserPoolClientCommandInput),
              ...pool,
              ClientId: clientId,
              CallbackURLs: redirectUris,
            }),
            { abortSignal },
          ),
        true,
      );
    },

    async checkReady(context) {
      try {
        await send(
          'describing the user pool',
          context,
          (abortSignal) => cognito.send(new DescribeUserPoolCommand(pool), { abortSignal }),
          true,
        );
        return { ready: true };
      } catch (error) {
        return notReady(error);
      }
    },

    diagnostics: createCognitoDiagnostics({ cognito, userPoolId: options.userPoolId, region: options.region, endpoint: options.endpoint }),

    async close() {
      if (!options.client) cognito.destroy();
    },
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger: options.logger });
}
