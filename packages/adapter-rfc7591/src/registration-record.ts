import { BridgeError, type OperationContext, type StateStore } from '@dcr-bridge/core';
import type { IdpHttpClient, IdpResponse } from '@dcr-bridge/core/idp';
import { registrationError, type ClientMetadata } from './mapping.js';
import { IDP_NAME } from './identity.js';

/** What the bridge keeps per client: the only way back to it under RFC 7592. */
export interface RegistrationRecord {
  registrationClientUri: string;
  registrationAccessToken: string;
  /**
   * Set while a write whose outcome decides what a refused token means is under way: `writing` (an
   * update, which may rotate the token), `deleting` (the bridge's own delete); `lost` once an update went
   * through without its answer, so its new token is unknown.
   */
  state?: 'writing' | 'deleting' | 'lost';
}

/**
 * What find() hands core, and core hands back (also from memory): the proof that the bridge holds the
 * client's registration. Everything else about the client changes (the registration access token rotates
 * on every update), so the primitives read the record from the store, and the client from the IdP, afresh.
 */
export interface HeldRegistration {
  clientId: string;
}

/** A client read with its registration access token: the record that reached it and its current metadata. */
export interface ManagedClient {
  record: RegistrationRecord;
  metadata: ClientMetadata;
}

/** Budget of the read that settles an update's fate, and of the delete of a client that could not be recorded. */
export const cleanupReadTimeoutMs = 10_000;

/**
 * The registration records the bridge keeps per client (the only way back to a client under RFC 7592), and the
 * RFC 7592 reads and updates that keep them in step with the registration access token the IdP holds.
 */
export function createRegistrationRecords(store: StateStore, http: IdpHttpClient) {
  /** Sends one RFC 7592 request for a client the bridge registered, with its registration access token. */
  function manage(method: 'GET' | 'PUT' | 'DELETE', entry: RegistrationRecord, context: OperationContext, json?: ClientMetadata) {
    return http.request<ClientMetadata>(method, new URL(entry.registrationClientUri), {
      headers: { authorization: `Bearer ${entry.registrationAccessToken}` },
      json,
      signal: context.signal,
      route: '{registration_client_uri}',
    });
  }

  /** RFC 7592 §2.1: an unknown client and a dead registration access token both answer 401 (403 or 404 on some servers). */
  const refusesToken = (status: number) => status === 401 || status === 403 || status === 404;

  const notFound = (clientId: string) => new BridgeError('not_found', `${IDP_NAME} has no client ${clientId}.`);

  function lostControl(clientId: string, entry: RegistrationRecord): BridgeError {
    return new BridgeError(
      'idp_error',
      `The bridge can no longer manage client ${clientId}: the IdP ${entry.state === 'lost' ? 'rotated its registration access token during an update whose answer never arrived' : 'refuses its registration access token (the client was deleted or its token revoked at the IdP)'}. An operator must check client ${clientId} at the IdP and delete it there if it still exists; the bridge keeps its record and will not report it deleted.`,
    );
  }

  async function setState(clientId: string, entry: RegistrationRecord, state: RegistrationRecord['state']): Promise<RegistrationRecord> {
    const next: RegistrationRecord = {
      registrationClientUri: entry.registrationClientUri,
      registrationAccessToken: entry.registrationAccessToken,
      ...(state ? { state } : {}),
    };
    await store.set<RegistrationRecord>(clientId, next);
    return next;
  }

  /**
   * Ownership, with no IdP call: only the creator holds a client's registration access token, so a client
   * the bridge keeps a record for is the bridge's, and one it keeps none for cannot even be read.
   */
  async function find(clientId: string): Promise<HeldRegistration | undefined> {
    return (await store.get<RegistrationRecord>(clientId)) ? { clientId } : undefined;
  }

  /** The client's record as it is now in the store; throws not_found without one, and for a client whose token is lost. */
  async function currentRecord(clientId: string): Promise<RegistrationRecord> {
    const entry = await store.get<RegistrationRecord>(clientId);
    if (!entry) throw notFound(clientId);
    if (entry.state === 'lost') throw lostControl(clientId, entry);
    return entry;
  }

  /**
   * The client's current metadata, read with its registration access token (RFC 7592 §2.1), and the record
   * settled. A refused token means "gone" only when the bridge's own delete was under way; after an update
   * whose fate is unknown it means the update went through and rotated the token (control is lost);
   * otherwise it is ambiguous and reported as such, never as gone.
   */
  async function read(clientId: string, entry: RegistrationRecord, context: OperationContext): Promise<ManagedClient> {
    const response = await manage('GET', entry, context);
    if (refusesToken(response.status)) {
      if (entry.state === 'deleting') {
        await store.delete(clientId);
        throw notFound(clientId);
      }
      if (entry.state === 'writing') {
        const lost = await setState(clientId, entry, 'lost');
        context.logger.error(
          'lost control of a client: an update went through but its answer never arrived, so its new registration access token is lost; delete the client at the IdP by hand',
          { clientId },
        );
        throw lostControl(clientId, lost);
      }
      throw lostControl(clientId, entry);
    }
    if (!response.ok || typeof response.body !== 'object') throw http.errorFromResponse(response, `reading client ${clientId}`);
    // The token still works: an update or delete whose answer was lost never happened.
    const current = entry.state ? await setState(clientId, entry, undefined) : entry;
    return { record: current, metadata: response.body };
  }

  /**
   * An RFC 7592 update. The IdP may rotate the registration access token on every update (oidc-provider and
   * Keycloak do), so the record says an update is under way before it is sent, the update is never repeated
   * blindly, and it runs to completion under the operation's completion budget so that a late answer's new
   * token is still kept. Without an answer, a read with the old token tells whether the update went through.
   */
  async function update(clientId: string, client: ManagedClient, body: ClientMetadata, context: OperationContext): Promise<ClientMetadata> {
    const writing = await setState(clientId, client.record, 'writing');
    let response: IdpResponse<ClientMetadata>;
    try {
      response = await manage('PUT', writing, context, body);
    } catch (error) {
      // No answer: a read with the old token settles the record (normal again, or lost).
      await read(clientId, writing, { ...context, signal: AbortSignal.timeout(cleanupReadTimeoutMs) }).catch(() => undefined);
      throw error;
    }
    const token = response.ok && typeof response.body === 'object' ? response.body.registration_access_token : undefined;
    if (typeof token === 'string' && token !== '') {
      await store.set<RegistrationRecord>(clientId, {
        registrationAccessToken: token,
        registrationClientUri:
          typeof response.body.registration_client_uri === 'string' ? response.body.registration_client_uri : writing.registrationClientUri,
      });
    } else if (refusesToken(response.status)) {
      throw lostControl(clientId, await setState(clientId, writing, 'lost'));
    } else {
      await setState(clientId, writing, undefined);
    }
    const refused = registrationError(response);
    if (refused) throw refused;
    if (!response.ok || typeof response.body !== 'object') throw http.errorFromResponse(response, `updating client ${clientId}`);
    return response.body;
  }

  return { manage, refusesToken, notFound, lostControl, setState, find, currentRecord, read, update };
}
