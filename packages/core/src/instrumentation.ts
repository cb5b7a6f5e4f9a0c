import { channel } from 'node:diagnostics_channel';

/**
 * Core's measurements, published on `node:diagnostics_channel` (the way undici and Node itself expose theirs):
 * nothing is computed unless something subscribes, and core depends on no metrics library. The server
 * subscribes and keeps Prometheus metrics (apps/server/src/metrics.ts); anyone else may too. Messages hold no
 * client id, no Konnect id and no secret: only what a low-cardinality label may carry.
 */
export const CHANNELS = {
  /** Every answer of the HTTP layer, those refused before the adapter too: {@link RequestMessage}. */
  request: 'dcr-bridge:request',
  /** A Konnect operation that reached the adapter: {@link OperationMessage}. */
  operation: 'dcr-bridge:operation',
  /** One attempt of an IdP call: {@link IdpCallMessage}. */
  idpCall: 'dcr-bridge:idp-call',
  /** An admin token request: {@link TokenMessage}. */
  token: 'dcr-bridge:admin-token',
  /** A store or journal operation: {@link StoreMessage}. */
  store: 'dcr-bridge:store',
} as const;

export interface RequestMessage {
  method: string;
  /**
   * The route of the DCR API the request was for, relative to the base path: `/`, `/{clientId}`,
   * `/{clientId}/new-secret`, `/{clientId}/event-hook`, `/healthz`, `/readyz`, `/openapi.json`; `other` for
   * any other path.
   */
  route: string;
  /** The status answered; 499 when the caller closed the connection before the answer was sent. */
  status: number;
  /** `success` (an answer below 400), the error code answered (`unauthorized`, `unsupported_media_type`, …), or `closed` (499). */
  outcome: string;
  seconds: number;
}

export interface OperationMessage {
  operation: string;
  adapter: string;
  /** `success`, `acknowledged`, or the error code. */
  outcome: string;
  status: number;
  seconds: number;
}

export interface IdpCallMessage {
  idp: string;
  method: string;
  /**
   * The route template the call was made with: the literal parts of its `path` template with `{id}` for each
   * interpolated value (`/oauth2/v1/clients/{id}/lifecycle/newSecret`), or the `route` the call named; `other`
   * for a target built any other way (a plain string, a URL): never a path that may hold an id.
   */
  route: string;
  /** The HTTP status, or `error` when no answer came (timeout, connection refused). */
  status: number | 'error';
  seconds: number;
  /** 0 for the first attempt; retries count up. */
  attempt: number;
}

export interface TokenMessage {
  idp: string;
  ok: boolean;
  seconds: number;
}

export interface StoreMessage {
  /** `get`, `set`, `delete`, `list`. */
  operation: string;
  /** `encrypted` (per-client records) or `json` (the journal). */
  store: string;
  ok: boolean;
  seconds: number;
}

const channels = {
  request: channel(CHANNELS.request),
  operation: channel(CHANNELS.operation),
  idpCall: channel(CHANNELS.idpCall),
  token: channel(CHANNELS.token),
  store: channel(CHANNELS.store),
};

export const publish = {
  request: (message: RequestMessage) => channels.request.hasSubscribers && channels.request.publish(message),
  operation: (message: OperationMessage) => channels.operation.hasSubscribers && channels.operation.publish(message),
  idpCall: (message: IdpCallMessage) => channels.idpCall.hasSubscribers && channels.idpCall.publish(message),
  token: (message: TokenMessage) => channels.token.hasSubscribers && channels.token.publish(message),
  store: (message: StoreMessage) => channels.store.hasSubscribers && channels.store.publish(message),
};

/** Whether anyone listens for answers or IdP calls (so that their labels are computed only then). */
export const measuringRequests = () => channels.request.hasSubscribers;
export const measuringIdpCalls = () => channels.idpCall.hasSubscribers;
export const measuringStore = () => channels.store.hasSubscribers;

/** Seconds since a `performance.now()` reading. */
export const secondsSince = (started: number) => (performance.now() - started) / 1000;
