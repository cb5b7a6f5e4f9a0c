import {
  BridgeError,
  defineDcrAdapter,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type StateStore,
  notReady,
  lifecycleSettings,
  type CommonAdapterOptions,
} from '@dcr-bridge/core';
import { createIdpHttpClient, type IdpHttpClient } from '@dcr-bridge/core/idp';
import { createRfc7591Diagnostics } from './diagnostics.js';
import { createEndpoints } from './endpoints.js';
import { epochToDate, registrationError, registrationMetadata, updateBody, type ClientMetadata } from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';
import { cleanupReadTimeoutMs, createRegistrationRecords, type HeldRegistration, type RegistrationRecord } from './registration-record.js';

export interface Rfc7591AdapterOptions extends CommonAdapterOptions {
  /** Issuer for discovery (openid-client `discovery`); one of issuer / registrationEndpoint is required. */
  issuer?: string;
  /** Registration endpoint given directly (no discovery). */
  registrationEndpoint?: string;
  /** Token endpoint for `tokenClient` when there is no issuer to discover it from. */
  tokenEndpoint?: string;
  /** A static initial access token for registration. */
  initialAccessToken?: string;
  /** Or: obtain the initial access token by client_credentials (core's token provider). */
  tokenClient?: { clientId: string; clientSecret: string; scope?: string };
  /** Keeps registration_client_uri + registration_access_token per client (encrypted by core). */
  store: StateStore;
  /** Allow http:// IdP URLs (tests, the server's dev mode). Default false. */
  allowInsecureHttp?: boolean;
}

export function createRfc7591Adapter(options: Rfc7591AdapterOptions): DcrAdapter {
  if (!options.issuer === !options.registrationEndpoint) {
    throw new Error('createRfc7591Adapter needs exactly one of issuer and registrationEndpoint.');
  }
  if (options.initialAccessToken && options.tokenClient) {
    throw new Error('createRfc7591Adapter takes a static initialAccessToken or a tokenClient, not both.');
  }
  if (options.tokenClient && !options.issuer && !options.tokenEndpoint) {
    throw new Error('createRfc7591Adapter needs tokenEndpoint (or an issuer to discover it) for tokenClient.');
  }
  const logger = options.logger ?? silentLogger;
  const { store } = options;
  const http: IdpHttpClient = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: options.issuer ?? options.registrationEndpoint ?? '',
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
    // GET and DELETE are repeated after a connection failure or a 429/502/503/504, never a PUT (it may rotate the
    // registration access token); each answer says how many attempts it took (`attempts`).
  });

  const { resolveEndpoints, discoveryDocument, initialAccessToken } = createEndpoints(options, logger);
  const { manage, refusesToken, lostControl, setState, find, currentRecord, read, update } = createRegistrationRecords(store, http);

  const primitives: IdpPrimitives<HeldRegistration> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: 'registration held by the bridge',
    find,
    isOurs: () => true,
    // The IdP decides which auth methods and grant types it registers; where its discovery document lists the
    // scopes it offers, core names an unknown one before registering (elsewhere the IdP refuses it).
    registration: {
      idp: IDP_NAME,
      clients: 'clients of this IdP',
      authMethods: 'checked-by-idp',
      grantTypes: 'checked-by-idp',
      scopes: {
        kind: 'looked-up',
        where: 'scopes_supported of its discovery document',
        async find(names) {
          const { scopesSupported } = await resolveEndpoints();
          return new Map(names.filter((name) => scopesSupported?.includes(name) ?? true).map((name) => [name, name]));
        },
      },
    },

    async create(registration, context) {
      const { registrationEndpoint } = await resolveEndpoints();
      const token = await initialAccessToken();
      const response = await http.post<ClientMetadata>(new URL(registrationEndpoint), {
        json: registrationMetadata(registration, context.nonce),
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: context.signal,
        route: '{registration_endpoint}',
      });
      const refused = registrationError(response);
      if (refused) throw refused;
      if (response.status === 401 || response.status === 403) {
        throw new BridgeError(
          'idp_error',
          `The IdP refused the registration request (HTTP ${response.status}): check the initial access token (the adapter's initialAccessToken or tokenClient).`,
        );
      }
      if (!response.ok || typeof response.body !== 'object' || typeof response.body.client_id !== 'string') {
        throw http.errorFromResponse(response, 'registering a client');
      }
      const created = response.body;
      const clientId = created.client_id as string;
      if (typeof created.registration_client_uri !== 'string' || typeof created.registration_access_token !== 'string') {
        context.logger.error('registered client cannot be managed: delete it at the IdP by hand', { clientId });
        throw new BridgeError(
          'idp_error',
          `The IdP registered client ${clientId} without RFC 7592 management (no registration_client_uri or registration_access_token), so the bridge could never rotate or delete it. Delete ${clientId} at the IdP and enable client management there.`,
        );
      }
      const entry: RegistrationRecord = {
        registrationClientUri: created.registration_client_uri,
        registrationAccessToken: created.registration_access_token,
      };
      try {
        await store.set<RegistrationRecord>(clientId, entry);
      } catch (error) {
        // Without its record nobody could ever delete the client: delete it now, with the token in hand.
        const removed = await manage('DELETE', entry, { ...context, signal: AbortSignal.timeout(cleanupReadTimeoutMs) }).catch(
          () => undefined,
        );
        if (!removed?.ok)
          context.logger.error('could not record a registered client nor delete it: delete it at the IdP by hand', { clientId });
        throw error;
      }
      await context.created(clientId, { clientId });
      if (typeof created.client_secret !== 'string' || created.client_secret === '') {
        throw new BridgeError(
          'invalid_client_metadata',
          `The IdP issued no client secret for token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}".`,
        );
      }
      return {
        clientId,
        clientSecret: created.client_secret,
        clientIdIssuedAt: epochToDate(created.client_id_issued_at),
        clientSecretExpiresAt: epochToDate(created.client_secret_expires_at),
      };
    },

    async remove(clientId, _held, context) {
      let entry = await store.get<RegistrationRecord>(clientId);
      if (!entry) return;
      if (entry.state === 'lost') throw lostControl(clientId, entry);
      // An update whose fate is unknown may have rotated the token: settle that first, or a refusal below would be ambiguous.
      if (entry.state === 'writing') entry = (await read(clientId, entry, context)).record;
      const retried = entry.state === 'deleting';
      const deleting = retried ? entry : await setState(clientId, entry, 'deleting');
      const response = await manage('DELETE', deleting, context);
      const attempts = response.attempts;
      // A refused token means gone only when a delete of the bridge's went before this answer: an earlier
      // attempt of this one, or an earlier delete of this client whose answer was lost (record left `deleting`).
      if (response.ok || (refusesToken(response.status) && (retried || attempts > 1))) {
        await store.delete(clientId);
        return;
      }
      if (refusesToken(response.status)) {
        await setState(clientId, deleting, undefined);
        throw lostControl(clientId, entry);
      }
      // Only an answer to a single attempt says for sure that nothing was deleted.
      if (attempts === 1 && response.status < 500) await setState(clientId, deleting, undefined);
      throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    async rotateSecret(clientId, _held, context) {
      const client = await read(clientId, await currentRecord(clientId), context);
      const updated = await update(clientId, client, updateBody(client.metadata, {}, { keepSecret: false }), context);
      if (
        typeof updated.client_secret !== 'string' ||
        updated.client_secret === '' ||
        updated.client_secret === client.metadata.client_secret
      ) {
        throw new BridgeError(
          'unsupported_operation',
          'This IdP did not issue a new client secret on an RFC 7592 update, so the bridge cannot rotate secrets here. Turn on "disable refresh secret" for this DCR provider in Konnect.',
        );
      }
      return updated.client_secret;
    },

    async replaceRedirectUris(clientId, _held, redirectUris, context) {
      const client = await read(clientId, await currentRecord(clientId), context);
      const updated = await update(
        clientId,
        client,
        updateBody(client.metadata, { redirect_uris: redirectUris }, { keepSecret: true }),
        context,
      );
      if (typeof updated.client_secret === 'string' && updated.client_secret !== client.metadata.client_secret) {
        context.logger.warn(
          'the IdP issued a new secret while updating redirect URIs; the developer must refresh the secret in the portal',
          { clientId },
        );
      }
    },

    async checkReady() {
      try {
        await resolveEndpoints();
        await initialAccessToken();
        await store.check();
        return { ready: true };
      } catch (error) {
        return notReady(error);
      }
    },
    diagnostics: createRfc7591Diagnostics({
      issuer: options.issuer,
      registrationEndpoint: options.registrationEndpoint,
      initialAccessToken: options.initialAccessToken ? 'static' : options.tokenClient ? 'client_credentials' : 'none',
      discoveryDocument,
      tokenForRegistration: initialAccessToken,
      tokenEndpoint: async () => {
        const { tokenEndpoint } = await resolveEndpoints();
        if (!tokenEndpoint) throw new BridgeError('idp_error', "The IdP announces no token_endpoint; set the adapter's tokenEndpoint.");
        return tokenEndpoint;
      },
      settingNames: options.settingNames,
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), journal: options.journal ?? store, logger });
}
