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
  type Logger,
  type OperationContext,
  lifecycleSettings,
  type LifecycleSettings,
} from '@dcr-bridge/core';
import { withRetries } from '@dcr-bridge/core/idp';
import { checkAuthMethod, clientName, isManaged, oauthFlows, type AppClientSettings, type MixedFlowPolicy } from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import { createCognitoDiagnostics } from './diagnostics.js';
import { fromAwsError } from './errors.js';

export interface CognitoAdapterOptions extends Partial<AppClientSettings>, LifecycleSettings {
  userPoolId: string;
  region: string;
  /** An emulator or a VPC endpoint; default the regional endpoint. */
  endpoint?: string;
  /** Ceiling of one Cognito request (and of connecting: at most 10 000 ms of it). Default 30 000 ms. */
  timeoutMs?: number;
  /** Default: the SDK's provider chain (environment, profile, web identity, instance role). */
  credentials?: CognitoIdentityProviderClientConfig['credentials'];
  /** An injected SDK client (tests). */
  client?: CognitoIdentityProviderClient;
  mixedFlows?: MixedFlowPolicy;
  /** For core's lifecycle (cleanup and recovery); Cognito calls log through each request's logger. */
  logger?: Logger;
}

/** Describe's fields that UpdateUserPoolClient does not take (find leaves out ClientSecret already). */
const READ_ONLY = ['CreationDate', 'LastModifiedDate'] as const;

/** The most app clients one ListUserPoolClients page may hold. */
const PAGE_SIZE = 60;

/** How many clients' current secret ids are remembered (as many as core remembers clients by default). */
const REMEMBERED_SECRETS = 1_000;

/** Sockets to Cognito at most at once, kept alive between calls. */
const MAX_SOCKETS = 50;

/** The app client without its secret: what core may remember holds no credential. */
function withoutSecret(client: UserPoolClientType): UserPoolClientType {
  const { ClientSecret: _secret, ...rest } = client;
  return rest;
}

/**
 * The id of the secret this process last issued to each client, most recently used last, at most
 * `REMEMBERED_SECRETS`. A hint, never trusted alone: Cognito's answers to the rotation prove it (see rotateSecret).
 */
class CurrentSecrets {
  private readonly ids = new Map<string, string>();

  get(clientId: string): string | undefined {
    return this.ids.get(clientId);
  }

  set(clientId: string, secretId: string): void {
    this.ids.delete(clientId);
    this.ids.set(clientId, secretId);
    if (this.ids.size > REMEMBERED_SECRETS) this.ids.delete(this.ids.keys().next().value as string);
  }

  forget(clientId: string): void {
    this.ids.delete(clientId);
  }
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
  const currentSecrets = new CurrentSecrets();

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

  /** The ids of the client's secrets, oldest first. One call: Cognito returns both (at most two) and no page token. */
  async function secretIds(clientId: string, context: OperationContext): Promise<string[]> {
    const listed = await send(
      'listing the client secrets',
      context,
      (abortSignal) => cognito.send(new ListUserPoolClientSecretsCommand({ ...pool, ClientId: clientId }), { abortSignal }),
      true,
    );
    return (listed.ClientSecrets ?? [])
      .sort((a, b) => (a.ClientSecretCreateDate?.getTime() ?? 0) - (b.ClientSecretCreateDate?.getTime() ?? 0))
      .flatMap((secret) => (secret.ClientSecretId ? [secret.ClientSecretId] : []));
  }

  /** A new secret; undefined when the client already holds two (Cognito's limit: LimitExceededException). */
  async function addSecret(clientId: string, context: OperationContext): Promise<{ id: string; value: string } | undefined> {
    const added = await send(
      'adding a client secret',
      context,
      (abortSignal) =>
        cognito.send(new AddUserPoolClientSecretCommand({ ...pool, ClientId: clientId }), { abortSignal }).catch((error: unknown) => {
          if ((error as { name?: string }).name === 'LimitExceededException') return undefined;
          throw error;
        }),
      false,
    );
    if (added === undefined) return undefined;
    const fresh = added.ClientSecretDescriptor;
    if (!fresh?.ClientSecretValue || !fresh.ClientSecretId)
      throw new BridgeError('idp_error', `${IDP_NAME} added a client secret without returning it.`);
    return { id: fresh.ClientSecretId, value: fresh.ClientSecretValue };
  }

  async function deleteSecret(clientId: string, secretId: string, context: OperationContext): Promise<void> {
    await send(
      'deleting an old client secret',
      context,
      (abortSignal) =>
        cognito.send(new DeleteUserPoolClientSecretCommand({ ...pool, ClientId: clientId, ClientSecretId: secretId }), { abortSignal }),
      true,
    );
  }

  /**
   * Deletes `previous`, the only secret besides `fresh` (see rotateSecret). Gone already (another process
   * rotated meanwhile): lists the secrets once and deletes every one but `fresh`.
   */
  async function retire(clientId: string, previous: string, fresh: string, context: OperationContext): Promise<void> {
    try {
      await deleteSecret(clientId, previous, context);
    } catch (error) {
      if (!(error instanceof BridgeError && error.code === 'not_found')) throw error;
      for (const id of await secretIds(clientId, context)) if (id !== fresh) await deleteSecret(clientId, id, context);
    }
  }

  const primitives: IdpPrimitives<UserPoolClientType> = {
    id: ADAPTER_ID,
    idpName: `${IDP_NAME} user pool ${options.userPoolId}`,
    marker: `ClientName starting with "${settings.namePrefix}"`,
    // UpdateUserPoolClient resets what it is not given: the update writes back the configuration read just before.
    readsCurrent: ['replaceRedirectUris'],

    async find(clientId, context) {
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

    async create(registration, context) {
      checkAuthMethod(registration);
      const flows = oauthFlows(registration, settings, context.logger);
      const scopes = registration.scopes.length > 0 ? registration.scopes : settings.defaultScopes;
      if (flows.length > 0 && scopes.length === 0) {
        throw new BridgeError(
          'invalid_scope',
          `${IDP_NAME} OAuth app clients need at least one scope: give the auth strategy scopes in Konnect, or set COGNITO_DEFAULT_SCOPES.`,
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
      currentSecrets.forget(clientId);
    },

    async rotateSecret(clientId, _client, context) {
      // Cognito holds at most two secrets per client. When this process issued the client's current secret,
      // an accepted AddUserPoolClientSecret proves that secret was the only one: add, then delete it.
      const known = currentSecrets.get(clientId);
      let fresh = known === undefined ? undefined : await addSecret(clientId, context);
      let previous = known;
      if (fresh === undefined) {
        // The current secret is not known, or the client holds two: list them once and make room, keeping
        // the one Konnect most likely holds (the one this process issued, else the newest) working until the end.
        const ids = await secretIds(clientId, context);
        previous = known !== undefined && ids.includes(known) ? known : ids.at(-1);
        for (const id of ids) if (id !== previous) await deleteSecret(clientId, id, context);
        fresh = await addSecret(clientId, context);
        if (fresh === undefined)
          throw new BridgeError(
            'idp_error',
            `${IDP_NAME} refused a new secret for client ${clientId}: another secret was added to it meanwhile. Retry.`,
          );
      }
      // Then the previous secret goes, so it stops working before Konnect gets the new one.
      if (previous !== undefined) await retire(clientId, previous, fresh.id, context);
      currentSecrets.set(clientId, fresh.id);
      return fresh.value;
    },

    async replaceRedirectUris(clientId, client, redirectUris, context) {
      // UpdateUserPoolClient resets every attribute it is not given: send back the configuration core's find
      // just read (readsCurrent). It takes no secret, so it cannot bring back one a rotation removed.
      const input = { ...client } as Record<string, unknown>;
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
