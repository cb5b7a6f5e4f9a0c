import { channel } from 'node:diagnostics_channel';

/**
 * Core's measurements, published on `node:diagnostics_channel` (the way undici and Node itself expose theirs):
 * nothing is computed unless something subscribes, and core depends on no metrics library. The server
 * subscribes and keeps Prometheus metrics (apps/server/src/metrics.ts); anyone else may too. Messages hold no
 * client id, no Konnect id and no secret: only what a low-cardinality label may carry.
 */
export const CHANNELS = {
  /** A Konnect operation that reached the adapter: {@link OperationMessage}. */
  operation: 'dcr-bridge:operation',
  /** One attempt of an IdP call: {@link IdpCallMessage}. */
  idpCall: 'dcr-bridge:idp-call',
  /** An admin token request: {@link TokenMessage}. */
  token: 'dcr-bridge:admin-token',
  /** A store or journal operation: {@link StoreMessage}. */
  store: 'dcr-bridge:store',
} as const;

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
  /** The path with every id-like segment replaced by `{id}` (see `routeTemplate`). */
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
  operation: channel(CHANNELS.operation),
  idpCall: channel(CHANNELS.idpCall),
  token: channel(CHANNELS.token),
  store: channel(CHANNELS.store),
};

export const publish = {
  operation: (message: OperationMessage) => channels.operation.hasSubscribers && channels.operation.publish(message),
  idpCall: (message: IdpCallMessage) => channels.idpCall.hasSubscribers && channels.idpCall.publish(message),
  token: (message: TokenMessage) => channels.token.hasSubscribers && channels.token.publish(message),
  store: (message: StoreMessage) => channels.store.hasSubscribers && channels.store.publish(message),
};

/** Whether anyone listens for IdP calls (so that the route template is computed only then). */
export const measuringIdpCalls = () => channels.idpCall.hasSubscribers;
export const measuringStore = () => channels.store.hasSubscribers;

/**
 * A path with its ids taken out, for a metric label: every segment that holds a digit (other than an API
 * version like `v1`), is 16 characters or longer, or is percent-encoded becomes `{id}`. Over-templating is
 * harmless; a client id must never become a label value.
 */
export function routeTemplate(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment === '' || /^v\d+$/.test(segment) || (!/[\d%]/.test(segment) && segment.length < 16) ? segment : '{id}'))
    .join('/');
}

/** Seconds since a `performance.now()` reading. */
export const secondsSince = (started: number) => (performance.now() - started) / 1000;
