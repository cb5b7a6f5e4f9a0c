import { BridgeError, type CreateContext, type CreatedClient, type OperationContext } from '@dcr-bridge/core';
import type { IdpHttpClient } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';
import { APPLICATION_ID_PREFIX, clientNameFor } from './mapping.js';
import { callZitadel, type UserMethod } from './connect.js';

// Konnect client_credentials registrations → ZITADEL service (machine) users of the configured organization.
// ZITADEL issues client_credentials tokens to service users only; the client id is the user's username and
// the client secret the one AddSecret generates.

/** A user as ZITADEL's UserService v2 returns it (protobuf JSON), as much as the adapter reads. */
export interface ZitadelMachineUser {
  userId: string;
  username: string;
  machine?: { name?: string; description?: string };
}

/**
 * The ownership marker of a service user: the user id the bridge chooses at creation (CreateUser takes an
 * optional `user_id`; ZITADEL generates numeric ids otherwise), also used as its username, so that its
 * client id tells it apart from an OIDC application's (numeric) and a cold lookup is one GetUserByID.
 */
export const userIdFor = (nonce: string) => `${APPLICATION_ID_PREFIX}${nonce}`;
export const isManagedUser = (user: ZitadelMachineUser) => user.userId.startsWith(APPLICATION_ID_PREFIX) && user.username === user.userId;
/** Whether a client id can be one of the bridge's service users (its username is its chosen user id). */
export const isMachineUserClientId = (clientId: string) => clientId.startsWith(APPLICATION_ID_PREFIX);

const DESCRIPTION = 'Managed by dcr-bridge for a Konnect application (client_credentials).';

/**
 * The user metadata key that holds the redirect URIs Konnect registered for a service user: a service user has
 * none of its own (it runs no redirect flow), so they are kept where ZITADEL lets a user carry data, as a JSON
 * array (metadata values are bytes, base64 in protobuf JSON).
 */
export const REDIRECT_URIS_KEY = 'dcr-bridge.redirect_uris';
export const encodeRedirectUris = (redirectUris: readonly string[]) => Buffer.from(JSON.stringify(redirectUris)).toString('base64');

export interface MachineUsersSetup {
  http: IdpHttpClient;
  organizationId: string;
}

/** The service-user operations of the adapter; adapter.ts decides which client kind an operation concerns. */
export function machineUsers({ http, organizationId }: MachineUsersSetup) {
  const call = <T>(method: UserMethod, json: Record<string, unknown>, context: Pick<OperationContext, 'signal'>) =>
    callZitadel<'user', T>(http, 'user', method, json, context);

  async function getUser(userId: string, context: OperationContext): Promise<ZitadelMachineUser | undefined> {
    const response = await call<{ user?: ZitadelMachineUser }>('GetUserByID', { userId }, context);
    if (response.status === 404) return undefined;
    if (!response.ok || response.body?.user === undefined) throw http.errorFromResponse(response, `looking up service user ${userId}`);
    return response.body.user.machine === undefined ? undefined : response.body.user;
  }

  /** SetUserMetadata overwrites the key: the URIs replace those held before (an empty list is kept as `[]`). */
  async function setRedirectUris(user: ZitadelMachineUser, redirectUris: readonly string[], context: OperationContext): Promise<void> {
    const response = await call(
      'SetUserMetadata',
      { userId: user.userId, metadata: [{ key: REDIRECT_URIS_KEY, value: encodeRedirectUris(redirectUris) }] },
      context,
    );
    if (!response.ok) throw http.refusal(response, `the redirect URIs of ${user.username}`);
  }

  async function addSecret(user: ZitadelMachineUser, context: OperationContext): Promise<string> {
    // ZITADEL keeps one secret per service user and AddSecret overwrites it: never marked idempotent, never retried.
    const response = await call<{ clientSecret?: string }>('AddSecret', { userId: user.userId }, context);
    if (!response.ok || typeof response.body?.clientSecret !== 'string' || response.body.clientSecret === '')
      throw http.errorFromResponse(response, `generating a secret for client ${user.username}`);
    return response.body.clientSecret;
  }

  return {
    /** The bridge's service user whose username (= user id) this client id is: one GetUserByID. */
    async findManaged(clientId: string, context: OperationContext): Promise<ZitadelMachineUser | undefined> {
      const user = await getUser(clientId, context);
      return user?.username === clientId ? user : undefined;
    },

    /** Any service user of the organization with this username (to refuse one the bridge did not create). */
    async findByUsername(username: string, context: OperationContext): Promise<ZitadelMachineUser | undefined> {
      const response = await call<{ result?: ZitadelMachineUser[] }>(
        'ListUsers',
        {
          query: { offset: 0, limit: 1 },
          queries: [
            { organizationIdQuery: { organizationId } },
            { userNameQuery: { userName: username, method: 'TEXT_QUERY_METHOD_EQUALS' } },
            { typeQuery: { type: 'TYPE_MACHINE' } },
          ],
        },
        context,
      );
      if (!response.ok) throw http.errorFromResponse(response, `looking up service user ${username}`);
      return response.body?.result?.find((user) => user.username === username);
    },

    /** CreateUser, SetUserMetadata (only when Konnect sent redirect URIs), then AddSecret. */
    async create(clientName: string, redirectUris: readonly string[], context: CreateContext<ZitadelMachineUser>): Promise<CreatedClient> {
      const userId = userIdFor(context.nonce);
      const machine = { name: clientNameFor(clientName, context.nonce), description: DESCRIPTION };
      const response = await call<{ id?: string }>('CreateUser', { organizationId, userId, username: userId, machine }, context);
      if (!response.ok || typeof response.body?.id !== 'string') throw http.refusal(response, 'the new service user');
      const user: ZitadelMachineUser = { userId: response.body.id, username: userId, machine };
      // The user exists from here on: tell core, so it is deleted if anything after this fails.
      await context.created(user.username, user);
      if (user.userId !== userId)
        throw new BridgeError(
          'idp_error',
          `${IDP_NAME} gave the new service user the id ${user.userId} instead of ${userId}: this ZITADEL version ignores CreateUser's user_id, which the bridge needs as its ownership marker (upgrade ZITADEL).`,
        );
      if (redirectUris.length > 0) await setRedirectUris(user, redirectUris, context);
      return { clientId: user.username, clientSecret: await addSecret(user, context) };
    },

    /** One SetUserMetadata: the redirect URIs Konnect sent replace the ones held. */
    replaceRedirectUris: setRedirectUris,

    /** The service user the create of this nonce made, if its name is exactly the one that create chose. */
    async findByNonce(nonce: string, clientName: string, context: OperationContext): Promise<ZitadelMachineUser | undefined> {
      const user = await getUser(userIdFor(nonce), context);
      return user?.machine?.name === clientNameFor(clientName, nonce) ? user : undefined;
    },

    rotateSecret: addSecret,

    async remove(user: ZitadelMachineUser, context: OperationContext): Promise<void> {
      const response = await call('DeleteUser', { userId: user.userId }, context);
      if (!response.ok && response.status !== 404) throw http.errorFromResponse(response, `deleting client ${user.username}`);
    },
  };
}
