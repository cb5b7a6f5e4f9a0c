import { createHash } from 'node:crypto';
import { BridgeError, type ClientSecrets, type IdpSecret, type Logger, type OperationContext, type StateStore } from '@dcr-bridge/core';
import { path, type IdpHttpClient, type IdpPath } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';
import type { PingOneApplication } from './mapping.js';

/**
 * # A PingOne application's secret as two secrets (core's `two-secrets` rotation)
 *
 * PingOne keeps one **current** secret per application and at most one **previous** one ("Application
 * Secret", Platform API; pingone-go-sdk-v2 `management/api/openapi.yaml`, API 2023-06-29):
 * - `GET …/applications/{id}/secret` → `{secret, previous?: {secret, expiresAt, lastUsed}}`, the previous one
 *   only while it has not expired;
 * - `POST …/applications/{id}/secret` makes a new current secret; with `{"previous": {"expiresAt"}}` (1 minute
 *   to 30 days ahead) the replaced one stays valid as the previous one until then, without it stops at once.
 *   Either way an earlier previous secret is gone;
 * - `DELETE …/applications/{id}/secret` ("DELETE Previous Application Secret") ends the previous one early.
 *   Nothing ends the current one but a `POST`, which also ends the previous one.
 *
 * Mapped onto `{list, add, remove}` (ids are digests of the values: PingOne gives a secret no id):
 * - `list`: `GET …/secret`, previous first;
 * - `add`: `POST …/secret` keeping the replaced secret as the previous one for as long as PingOne allows
 *   (`PREVIOUS_VALIDITY_MS`); the bridge ends it itself (`remove`) once Konnect got the new one, or when the
 *   overlap ends;
 * - `remove` of the previous secret: `DELETE …/secret`.
 * - `remove` of the current secret is what PingOne cannot do: it is asked when Konnect did not get the secret a
 *   rotation added (the answer was lost, the IdP finished the call after the bridge gave up). Konnect's secret is
 *   then PingOne's previous one, valid until its `expiresAt`, and a `POST` would end it. So the current secret
 *   is left in place, unused, and recorded in the journal as **unheld** (its digest only): `list` leaves it out
 *   (core then keeps treating Konnect's secret as the one Konnect holds, also after a restart), and the next
 *   `add` hands it out instead of a `POST` (it never reached Konnect or anyone else), so that Konnect's secret
 *   keeps working until Konnect has the next one. A warning names the client and when Konnect's secret expires.
 */
export const UNHELD_PREFIX = 'dcr-bridge/pingone-unheld/';

/** How long the replaced secret stays valid at PingOne: its maximum, 30 days, less a margin for clock skew. */
export const PREVIOUS_VALIDITY_MS = 30 * 24 * 3_600_000 - 10 * 60_000;
/** The longest rotation overlap: PingOne must not end the previous secret before the bridge does. */
export const MAX_OVERLAP_MS = 29 * 24 * 3_600_000;

/** What `GET …/secret` answers. */
interface SecretBody {
  secret?: string;
  previous?: { secret?: string; expiresAt?: string };
}

/** What the bridge knows of an application's secrets: digests and the previous one's expiry, never values. */
interface SecretState {
  current: string;
  previous?: { id: string; expiresAt?: string };
}

/** A record of the journal: the application's current secret Konnect never got. */
interface UnheldRecord {
  secretId: string;
  since: string;
}

/** How long what a call answered is trusted without reading again: within one rotation (list, removes, add, retire). */
const FRESH_MS = 30_000;

export const secretId = (secret: string) => createHash('sha256').update(secret).digest('base64url').slice(0, 22);

export interface PingOneSecretsOptions {
  http: IdpHttpClient;
  /** `…/applications/{id}` for an application id (encoded). */
  application: (id: string) => IdpPath;
  journal: StateStore;
  logger: Logger;
}

export function pingOneSecrets(options: PingOneSecretsOptions): ClientSecrets<PingOneApplication> & {
  /** Forgets the application's record (it was deleted). */
  forget(clientId: string): Promise<void>;
} {
  const { http, application, journal, logger } = options;
  const unheldKey = (clientId: string) => `${UNHELD_PREFIX}${clientId}`;
  /** The state PingOne answered last, per application; a rotation holds the client's lock from the list to the retire. */
  const seen = new Map<string, { state: SecretState; at: number }>();
  const remember = (clientId: string, state: SecretState) => {
    seen.set(clientId, { state, at: Date.now() });
    return state;
  };

  /** The secret as PingOne holds it now; undefined when the application is gone. */
  async function read(clientId: string, context: OperationContext): Promise<(SecretState & { value: string }) | undefined> {
    const body = await http.find<SecretBody>(path`${application(clientId)}/secret`, `reading the secret of ${clientId}`, {
      signal: context.signal,
    });
    if (body === undefined) {
      seen.delete(clientId);
      return undefined;
    }
    if (typeof body.secret !== 'string')
      throw new BridgeError('idp_error', `${IDP_NAME} answered the secret read of ${clientId} without a secret.`);
    const state: SecretState = {
      current: secretId(body.secret),
      ...(typeof body.previous?.secret === 'string'
        ? { previous: { id: secretId(body.previous.secret), expiresAt: body.previous.expiresAt } }
        : {}),
    };
    remember(clientId, state);
    return { ...state, value: body.secret };
  }

  async function known(clientId: string, context: OperationContext): Promise<SecretState | undefined> {
    const memo = seen.get(clientId);
    if (memo && Date.now() - memo.at < FRESH_MS) return memo.state;
    return read(clientId, context);
  }

  /** The unheld record when it still names the current secret beside a previous one (Konnect's); else it is closed. */
  async function unheld(clientId: string, state: SecretState): Promise<UnheldRecord | undefined> {
    const record = await journal.get<UnheldRecord>(unheldKey(clientId));
    if (record === undefined) return undefined;
    if (record.secretId === state.current && state.previous !== undefined) return record;
    await journal.delete(unheldKey(clientId));
    return undefined;
  }

  return {
    max: 2,

    async list(clientId, _application, context) {
      const state = await read(clientId, context);
      if (state === undefined) throw new BridgeError('not_found', `${IDP_NAME} has no application ${clientId}.`);
      const listed: IdpSecret[] = state.previous ? [{ id: state.previous.id }, { id: state.current }] : [{ id: state.current }];
      // The current secret Konnect never got is not one of the secrets that count: the next add hands it out.
      if (await unheld(clientId, state)) return listed.slice(0, 1);
      return listed;
    },

    async add(clientId, _application, context) {
      const record = await journal.get<UnheldRecord>(unheldKey(clientId));
      if (record !== undefined) {
        const state = await read(clientId, context);
        if (state && (await unheld(clientId, state))) {
          await journal.delete(unheldKey(clientId));
          logger.info(
            `handing out the ${IDP_NAME} secret Konnect did not get at an earlier rotation; the secret Konnect holds stays valid`,
            {
              clientId,
            },
          );
          return { id: state.current, secret: state.value };
        }
      }
      const response = await http.post<SecretBody>(path`${application(clientId)}/secret`, {
        json: { previous: { expiresAt: new Date(Date.now() + PREVIOUS_VALIDITY_MS).toISOString() } },
        signal: context.signal,
      });
      if (!response.ok || typeof response.body?.secret !== 'string')
        throw http.errorFromResponse(response, `rotating the secret of ${clientId}`);
      const before = seen.get(clientId)?.state.current;
      const previous = response.body.previous?.secret;
      remember(clientId, {
        current: secretId(response.body.secret),
        ...(typeof previous === 'string'
          ? { previous: { id: secretId(previous), expiresAt: response.body.previous?.expiresAt } }
          : before !== undefined
            ? { previous: { id: before } }
            : {}),
      });
      return { id: secretId(response.body.secret), secret: response.body.secret };
    },

    async remove(clientId, _application, id, context) {
      const state = await known(clientId, context);
      if (state === undefined) return;
      if (state.previous?.id === id) {
        const response = await http.delete(path`${application(clientId)}/secret`, { signal: context.signal });
        // 404: the application, or its previous secret, is gone already.
        if (!response.ok && response.status !== 404) throw http.errorFromResponse(response, `ending the previous secret of ${clientId}`);
        remember(clientId, { current: state.current });
        return;
      }
      if (state.current !== id) return;
      // PingOne ends its current secret only by replacing it, which would end the previous one: Konnect's.
      await journal.set<UnheldRecord>(unheldKey(clientId), { secretId: id, since: new Date().toISOString() });
      logger.warn(
        `${IDP_NAME} cannot end an application's current secret without ending its previous one, which is the secret Konnect holds: ` +
          `the secret Konnect did not get stays ${IDP_NAME}'s current one, unused, and the next rotation hands it out. ` +
          `Konnect's secret stays valid as ${IDP_NAME}'s previous secret${state.previous?.expiresAt ? ` until ${state.previous.expiresAt}` : ''}: ` +
          `if the application's secret is not rotated in Konnect before then, its calls will fail.`,
        { clientId },
      );
    },

    async forget(clientId) {
      seen.delete(clientId);
      await journal.delete(unheldKey(clientId));
    },
  };
}
