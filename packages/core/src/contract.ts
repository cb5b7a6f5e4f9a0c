/**
 * # The adapter contract
 *
 * This file is the one place that says what an adapter is. Konnect calls the bridge; core authenticates
 * the call, validates and normalises it, and calls exactly one method of the configured adapter; the
 * adapter talks to its IdP and returns a result or throws a `BridgeError`. Adapters never see HTTP
 * requests from Konnect, and core never knows an IdP.
 *
 * ## Two ways to write an adapter
 * - **Hand core the IdP's primitives** (`IdpPrimitives` below) and call `defineDcrAdapter(primitives)`
 *   from `lifecycle.ts`. Core then keeps every rule of the lifecycle once, for every adapter: the ownership
 *   check, idempotent delete, per-client serialisation, the create journal (a create whose answer never
 *   reached Konnect is undone, also after a crash), cleanup that retries until the client is gone, and the
 *   capabilities, derived from which primitives exist. Every first-party adapter is written this way.
 * - Implement `DcrAdapter` directly (a third-party adapter that needs full control). It must then keep the
 *   rules below by itself.
 *
 * ## Rules every adapter keeps (core's lifecycle keeps the starred ones for primitives)
 * - **Ownership.*** Every client it creates carries a marker the adapter can check later (an IdP
 *   attribute, a name prefix, a store record). `rotateSecret`, `applyEvent` and `deleteClient` refuse a
 *   client without it by throwing `client_not_managed`, and change nothing.
 * - **No half-created clients.*** A create that needs several IdP calls either completes or deletes what it
 *   made; a create the IdP completes after Konnect was told it failed is found and deleted.
 * - **Idempotent delete.*** A client that is already gone is a success.
 * - **One operation per client at a time.*** Two Konnect calls on one client never interleave their IdP
 *   writes, and a write carries only what it changes (never a secret read earlier).
 * - **Safe paths.** Every path segment built from request data goes through `path`/`encodeSegment` of the
 *   HTTP client, so a client id can never reach another admin path.
 * - **Secrets stay secret.** Client secrets, admin tokens, registration access tokens and API keys never
 *   reach a log, an error message or an unencrypted store. Log through `context.logger` only.
 * - **Errors.** Throw `BridgeError` with the code that fits (see `errors.ts`): `invalid_client_metadata`,
 *   `invalid_redirect_uri`, `invalid_scope` for what the IdP cannot accept (name the field and the value);
 *   `not_found`; `client_not_managed`; `idp_unavailable`, `idp_timeout`, `idp_rate_limited`, `idp_error`
 *   for the IdP's own failures (the IdP HTTP client produces these). Anything else thrown is reported as
 *   `adapter_failure` (500) without its message.
 * - **No I/O at import or construction.** Factories only validate options and wire objects; the first
 *   network call happens in a method (or `checkReady`).
 */
import type { BridgeErrorCode } from './error-codes.js';
import type { Logger } from './logger.js';

/** The OAuth 2.0 grant types a registration may ask for, as the IdP understands them (Konnect's names are translated by core). */
export const OAUTH_GRANT_TYPES = [
  'client_credentials',
  'authorization_code',
  'refresh_token',
  'implicit',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:token-exchange',
] as const;

export type OAuthGrantType = (typeof OAUTH_GRANT_TYPES)[number];

/** Konnect's own identifiers for the application, for adapters that record them at the IdP. */
export interface KonnectReferences {
  portalId: string;
  organizationId: string;
  developerId: string;
  authStrategyId: string;
  dcrProviderId: string;
}

/** What Konnect asks for when a developer creates an application (the spec's ApplicationPayload). */
export interface ClientRegistration {
  /** The application's name in the portal. Not unique: two applications may share it. */
  clientName: string;
  description: string;
  /** Absolute URIs, possibly empty (client_credentials-only applications). */
  redirectUris: string[];
  /** OAuth grant types, de-duplicated, in Konnect's order (`bearer` and `client_credentials` → `client_credentials`). */
  grantTypes: OAuthGrantType[];
  /** The grant types exactly as Konnect sent them, for error messages. */
  requestedGrantTypes: string[];
  /** Scopes the application asks for; the IdP must know each one. */
  scopes: string[];
  /** As Konnect sent it, e.g. `client_secret_post`, `client_secret_basic`, `client_secret_jwt`. */
  tokenEndpointAuthMethod: string;
  konnect: KonnectReferences;
}

/** The answer to a create. */
export interface CreatedClient {
  clientId: string;
  clientSecret: string;
  /** When the IdP issued the client; core uses "now" when the IdP does not say. */
  clientIdIssuedAt?: Date;
  /** When the secret expires; undefined when it never does (the response then has no expiry field). */
  clientSecretExpiresAt?: Date;
}

/** The answer to a rotation: same client id, new secret, the old one no longer valid. */
export interface RotatedSecret {
  clientId: string;
  clientSecret: string;
}

/** Konnect's ids that come with every event hook. */
export interface EventApplication extends KonnectReferences {
  applicationId: string;
  applicationName: string;
  applicationDescription: string;
}

export type ClientEvent =
  /** The developer changed the application's redirect URIs: replace them at the IdP (nothing else changes). */
  | { type: 'update_application'; redirectUris: string[]; application: EventApplication }
  /** The application was registered to an API product version; `audience` is set when the product has one. */
  | { type: 'add_registration'; apiProductVersionId: string; audience?: string; application: EventApplication }
  /** The registration was removed; undo what add_registration did. */
  | { type: 'remove_registration'; apiProductVersionId: string; audience?: string; application: EventApplication };

/** Passed to every call. */
export interface OperationContext {
  /**
   * Aborts when the operation's completion budget is spent; pass it to every IdP call. It does not abort
   * when Konnect's answer is due: core answers Konnect on time (504) and lets IdP work already under way
   * finish, so that what the IdP did is known (and undone when Konnect never learnt of it).
   */
  signal: AbortSignal;
  /**
   * Aborts when Konnect's answer is due or Konnect hung up. Work that has not started by then must not
   * start (core's lifecycle checks it before every operation); work under way goes on under `signal`.
   */
  deadline: AbortSignal;
  /**
   * Settles `true` once Konnect's connection has taken the successful answer to this call, `false` when
   * Konnect will never get it (the deadline passed, Konnect hung up, the call failed). Core's lifecycle
   * undoes a create whose answer settles `false`.
   */
  answered: Promise<boolean>;
  /** Bound to this request (request id, operation, adapter). */
  logger: Logger;
  requestId: string;
}

/**
 * What the adapter can do beyond create and delete. Core checks at boot that every announced capability
 * has its method (`assertAdapter`), and at request time answers `unsupported_operation` for the rest.
 */
export interface AdapterCapabilities {
  /** `rotateSecret` gives a new secret for the same client id and the old one stops working. */
  rotateSecret: boolean;
  /** `applyEvent` handles `update_application` by replacing the redirect URIs at the IdP. */
  updateRedirectUris: boolean;
  /**
   * `applyEvent` handles `add_registration` / `remove_registration` with an audience (e.g. an audience
   * mapper). Without this capability those events are acknowledged and nothing changes: Konnect sends
   * them for every registration, and most IdPs need nothing done.
   */
  audienceRegistrations: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  /** For the logs only; `/readyz` never shows it (it may name hosts or echo the IdP's words). */
  detail?: string;
  /**
   * Why not, as an error code `/readyz` may show (`idp_unavailable`, `idp_timeout`, `idp_error` for refused
   * admin credentials or a missing permission, `idp_rate_limited`, `internal_error`…). Core's `probe` sets it.
   */
  reason?: BridgeErrorCode | 'canary_failing';
  /** Set when the admin credentials work but lack these permissions (the names of the failed permission checks). */
  missingPermissions?: string[];
}

export interface DcrAdapter {
  /** Short stable id, e.g. `keycloak`; used in logs and error messages. */
  readonly id: string;
  readonly capabilities: AdapterCapabilities;

  /**
   * Creates a confidential client for `registration` and returns its credentials.
   * Throws `invalid_client_metadata` / `invalid_redirect_uri` / `invalid_scope` (naming the value) for what
   * the IdP cannot do. Leaves nothing behind at the IdP when it throws.
   */
  createClient(registration: ClientRegistration, context: OperationContext): Promise<CreatedClient>;

  /**
   * Deletes the client. Resolves when the client is gone, including when it never existed.
   * Throws `client_not_managed` for a client the bridge did not create.
   */
  deleteClient(clientId: string, context: OperationContext): Promise<void>;

  /**
   * Issues a new secret for the same client id. The old secret stops working once Konnect has the new one:
   * before this resolves (`replace`, `restore`), or as soon as Konnect's connection took the answer, and with
   * an overlap only after it (`two-secrets`; see `RotationMode`).
   * Throws `not_found` for an unknown client, `client_not_managed` for a foreign one, and
   * `unsupported_operation` when this IdP cannot rotate. Required when `capabilities.rotateSecret`.
   */
  rotateSecret?(clientId: string, context: OperationContext): Promise<RotatedSecret>;

  /**
   * Applies a lifecycle event. Required when `capabilities.updateRedirectUris` or
   * `capabilities.audienceRegistrations`. Core only calls it for the events the capabilities announce.
   * Throws `not_found` / `client_not_managed` as rotateSecret does.
   */
  applyEvent?(clientId: string, event: ClientEvent, context: OperationContext): Promise<void>;

  /**
   * How a rotation keeps Konnect's secret working when Konnect did not get the new one (see `RotationMode`),
   * and the overlap in force; for doctor and the logs. Adapters built with `defineDcrAdapter` have it.
   */
  readonly rotation?: { mode: RotationMode; overlapMs: number };

  /** Whether the adapter can serve now (admin credentials work, the IdP answers). Never throws. */
  checkReady(context: OperationContext): Promise<ReadinessReport>;

  /**
   * What the IdP accepts in a registration, as the adapter declared it; the conformance suite reads it to know
   * which refusals to prove. Adapters built with `defineDcrAdapter` have it.
   */
  readonly registration?: RegistrationRules<unknown>;

  /** What `dcr-bridge doctor` checks at the IdP beyond readiness (see `AdapterDiagnostics`). */
  readonly diagnostics?: AdapterDiagnostics;

  /**
   * Finishes what a previous process left open: creates that were under way when it died are found at the
   * IdP and undone. The server calls it once at boot, in the background. With a journal shared by several
   * processes (a driver with `exclusive`), it touches only entries older than `inFlightMs` and sweeps again
   * every `inFlightMs` until close(), so that a surviving replica finishes a dead one's creates. Adapters
   * built with `defineDcrAdapter` have it.
   *
   * `inFlightMs`: how long a create may still complete at the IdP after the process that sent it died (the
   * completion budget of IdP work, `completionTimeoutMs` of the HTTP layer; default 30 000 ms). A create
   * whose client id was never recorded is searched for only once that much time has passed since it started,
   * so that one the IdP finishes late is found too.
   */
  recover?(options?: { inFlightMs?: number }): Promise<RecoveryReport>;

  /** Resolves when no cleanup is pending (tests, the soak, shutdown). Adapters built with `defineDcrAdapter` have it. */
  drained?(): Promise<void>;

  /** Releases what the adapter holds (stores, agents). Called once at shutdown. */
  close?(): Promise<void>;
}

/**
 * # Diagnostics: what `dcr-bridge doctor` asks an adapter
 *
 * The doctor checks, in order: the configuration (as the server loads it); that `adminUrl` is reachable
 * (DNS, TCP, TLS and its certificate, an HTTP answer); that the admin credentials are accepted
 * (`checkCredentials`, else `checkReady`); the permissions the adapter needs (`checkPermissions`); and, with
 * `--write-test` only, a probe client created, its credentials proven at `tokenEndpoint`, rotated (the old
 * secret refused, the new one accepted) and deleted. A failed credentials check leaves the permission checks
 * and the write test skipped: one cause is reported once, with its fix.
 */
export interface AdapterDiagnostics {
  /** The IdP's admin API base URL, as configured (never with credentials in it). */
  readonly adminUrl: string;
  /**
   * Read-only checks, one per permission the adapter needs (list, read, create, update, delete clients;
   * read scopes…), as far as the IdP lets them be seen without changing anything. A permission that can
   * only be proven by writing is a check with `result: 'skip'` naming `--write-test`.
   */
  checkPermissions(context: OperationContext): Promise<DiagnosticCheck[]>;
  /**
   * The admin credentials and what they stand on (the realm or tenant they name), read-only: each cause a check of
   * its own with the fix for that cause (a realm that does not exist is no wrong secret; a scope not granted is no
   * credential problem, but a permission's, left to `checkPermissions`). Without it the doctor reads `checkReady`.
   */
  checkCredentials?(context: OperationContext): Promise<DiagnosticCheck[]>;
  /** Where a client the bridge created asks for tokens (client_credentials), for the write test. */
  tokenEndpoint(context: OperationContext): Promise<string>;
  /** The IdP's product and version where it tells them, and whether the adapter supports that version. */
  idpVersion?(context: OperationContext): Promise<IdpVersion>;
}

/** What `diagnostics.idpVersion` found (see each adapter README's "Supported versions" table). */
export interface IdpVersion {
  /** The product as it names itself, e.g. `Keycloak`. */
  product: string;
  /** Its version as the IdP tells it; undefined where it does not tell (then `detail` says how the adapter tells generations apart). */
  version?: string;
  /** The versions or API generations the adapter supports, as its README says, e.g. `24 – 26`. */
  supported: string;
  /** Whether `version` is within `supported`; undefined when the version could not be read. */
  withinSupported?: boolean;
  /** How the version was read, or which API generation was detected. */
  detail?: string;
}

export interface DiagnosticCheck {
  /** What was checked, e.g. `permission: manage-clients`. */
  name: string;
  /** `warn`: works, but an operator should look (an IdP version outside the supported range, admin traffic over http). */
  result: 'pass' | 'warn' | 'fail' | 'skip';
  /** What was seen (an HTTP status, a role list); never a secret. */
  detail?: string;
  /** For a failure: what to change at the IdP or in the settings, e.g. "assign the role manage-clients of realm-management to the service account". */
  fix?: string;
}

/** What `recover()` did with the creates a previous process left open. */
export interface RecoveryReport {
  /** Open creates found in the journal. */
  open: number;
  /** Clients found at the IdP and deleted, because Konnect never got their credentials. */
  undone: number;
  /** Creates that never reached the IdP (nothing to undo). */
  neverCreated: number;
  /** Creates the bridge could not resolve (the IdP cannot be searched, or it kept failing); logged for an operator. */
  unresolved: number;
  /** Creates whose answer was leaving for Konnect when the process died: kept (Konnect may hold them) and logged. */
  kept: number;
  /** Rotations a previous process left open, or whose old secret's overlap was due, finished (see `RotationMode`). */
  rotations: number;
}

/**
 * # What an IdP accepts in a registration
 *
 * An adapter declares what its IdP can give a client (`IdpPrimitives.registration`); core checks every
 * registration against it once, before the adapter's `create` is called and before anything is journaled, and
 * refuses the rest with one message per rule: `invalid_client_metadata` for an auth method or grant type,
 * `invalid_scope` for a scope. A refusal costs no IdP call, except for a `looked-up` scope list, which is read
 * (and nothing is written). The conformance suite reads the same declaration to know which refusals to prove.
 */
export interface RegistrationRules<Scope = string> {
  /** The IdP's product name for the messages, e.g. `Keycloak`: never a host, realm or tenant (Konnect shows them to developers). */
  readonly idp: string;
  /** What the IdP makes of a registration, plural, for the messages: `Cognito app clients`, `FusionAuth entities`. */
  readonly clients: string;
  /**
   * The `token_endpoint_auth_method` values the IdP can give a client with a secret, or `checked-by-idp` where
   * the adapter hands the value on and the IdP decides (RFC 7591).
   */
  readonly authMethods: readonly string[] | 'checked-by-idp';
  /** The grant types the IdP can enable, or `checked-by-idp` where the adapter hands them on and the IdP decides. */
  readonly grantTypes: readonly OAuthGrantType[] | 'checked-by-idp';
  /** Grants the IdP enables only together with another one, e.g. Okta's `{ refresh_token: 'authorization_code' }`. */
  readonly grantRequires?: Readonly<Partial<Record<OAuthGrantType, OAuthGrantType>>>;
  /** Grants the IdP gives a client only on their own, never with another grant (ZITADEL's `client_credentials`). */
  readonly grantAlone?: readonly OAuthGrantType[];
  readonly scopes: ScopeRules<Scope>;
  /**
   * Whether the client keeps the redirect URIs Konnect registered, where they can be read back (`kept`, the
   * default), or the IdP has no place for them (`dropped`): the conformance suite then does not compare them.
   */
  readonly redirectUris?: 'kept' | 'dropped';
}

/** Which scope names the IdP accepts (see `RegistrationRules.scopes`). */
export type ScopeRules<Scope = string> =
  /** Any name: the IdP holds no scope list per client (scopes are granted elsewhere, e.g. by its token policies). */
  | { readonly kind: 'any' }
  /** The IdP refuses an unknown scope itself when the client is created, and the adapter names it (Cognito). */
  | { readonly kind: 'checked-by-idp' }
  /** A fixed list, checked without a call; the message names it. */
  | { readonly kind: 'listed'; readonly known: readonly string[] }
  /**
   * Read from the IdP before the create: `find` answers, for the requested names the IdP has, what the create
   * needs of each (an id, a reference). The create gets them in the registration's order (`CreateContext.scopes`).
   * It may throw a `BridgeError` (e.g. `invalid_scope` when the IdP cannot hold scopes as configured).
   * `where` tells an operator where scopes are defined, e.g. `OAuth Server → Scope Management`.
   */
  | {
      readonly kind: 'looked-up';
      readonly where?: string;
      find(names: readonly string[], context: OperationContext): Promise<ReadonlyMap<string, Scope>>;
    };

/**
 * # IdP primitives: what an adapter hands to core's lifecycle (`defineDcrAdapter`)
 *
 * Each primitive does one IdP thing and nothing else: no ownership checks, no compensation, no retries
 * beyond the HTTP client's, no locking. Core calls them in the right order, one operation per client at a
 * time, and derives the capabilities from which optional ones exist. `Client` is whatever `find` returns
 * (the IdP's representation); core passes it back to the other primitives, so the read that proves
 * ownership doubles as the read an update needs.
 *
 * **Remembered ownership.** Core remembers, in a bounded in-process list, the clients this process created
 * (`created(clientId, client)`) or found to be its own, with the representation it had then. A rotate,
 * update or delete of a remembered client skips `find` and hands the primitive the remembered `Client`: an
 * IdP never reuses a client id, so "ours" stays true, and a client deleted meanwhile answers the primitive
 * with a 404 (a delete then succeeds, the others answer `not_found`). A remembered `Client` is as it was, not
 * as it is: use it for what never changes (internal ids, the marker). A primitive that writes the client
 * back in full (a PUT that replaces every setting) starts from `await context.current()` instead (see
 * `ClientContext`): the client as the IdP holds it now, read by core only when the primitive asks, so an
 * administrator's change made at the IdP meanwhile is never overwritten by a stale copy. The conformance
 * suite's `lifecycle/keeps-changes-made-at-the-idp` fails an adapter that writes back the remembered one.
 *
 * Throw `BridgeError`s as described above. `invalid_*` errors must be thrown before anything is created.
 */
export interface IdpPrimitives<Client, Scope = string> {
  /** Adapter id (`keycloak`), as `DcrAdapter.id`. */
  readonly id: string;
  /** For messages, e.g. `Keycloak`. */
  readonly idpName: string;
  /** How the ownership marker looks, for the `client_not_managed` message, e.g. `a dcr-bridge.managed attribute`. */
  readonly marker: string;

  /** The client, or undefined when the IdP has no client with this id. */
  find(clientId: string, context: OperationContext): Promise<Client | undefined>;
  /** Whether the client carries the bridge's ownership marker. */
  isOurs(client: Client): boolean;
  /**
   * What the IdP accepts in a registration (auth methods, grant types, scopes, redirect URIs): core refuses
   * the rest before `create` is called, so `create` only translates.
   */
  readonly registration: RegistrationRules<Scope>;
  /**
   * Creates the client and returns its credentials, for a registration core has checked against
   * `registration` (what is left to refuse is what only the IdP's answer tells). `context.nonce` is a fresh random string of 8 characters
   * `[a-z0-9]`: put it into the client where `findByNonce` can find it (typically as the unique suffix of
   * its name: `uniqueName(name, {suffix: context.nonce})`). Call `context.created(clientId)` as soon as
   * the IdP holds the client, before any further step: from then on core deletes it if anything fails.
   */
  create(registration: ClientRegistration, context: CreateContext<Client, Scope>): Promise<CreatedClient>;

  /** Deletes the client; resolves when it is gone, also when it was already gone. */
  remove(clientId: string, client: Client, context: ClientContext<Client>): Promise<void>;

  /** The client the create with this nonce made, if the IdP holds one; omit when the IdP cannot be searched. */
  findByNonce?(
    nonce: string,
    draft: { clientName: string },
    context: OperationContext,
  ): Promise<{ clientId: string; client: Client } | undefined>;

  /**
   * A new secret for the same client id, replacing the old one (which must be dead when this resolves).
   * Enables `rotateSecret` for an IdP that keeps one secret per client. With `secretValue` too, core can put
   * Konnect's secret back when Konnect did not get the new one (see "Rotation" below); without, such a
   * rotation is logged and Konnect's application must be given a new secret by another rotation.
   */
  rotateSecret?(clientId: string, client: Client, context: ClientContext<Client>): Promise<string>;
  /**
   * The IdP keeps several secrets per client (two-phase rotation). Give this instead of `rotateSecret`
   * wherever the IdP allows it: core adds the new secret, and retires the old one only once Konnect got the
   * new one (and, with an overlap, only after it). Enables `rotateSecret`.
   */
  readonly secrets?: ClientSecrets<Client>;
  /**
   * The IdP lets the bridge read a client's secret and set it to a value of its choosing (restore). With
   * `rotateSecret`, core reads Konnect's secret before the rotation and puts it back when Konnect did not
   * get the new one.
   */
  readonly secretValue?: SecretValue<Client>;
  /** Replaces the redirect URIs and changes nothing else. Enables `updateRedirectUris`. */
  replaceRedirectUris?(clientId: string, client: Client, redirectUris: string[], context: ClientContext<Client>): Promise<void>;
  /** Tokens of the client carry this audience from now on (idempotent). With `removeAudience`, enables `audienceRegistrations`. */
  addAudience?(clientId: string, client: Client, audience: string, context: ClientContext<Client>): Promise<void>;
  /** Undoes `addAudience` (idempotent). */
  removeAudience?(clientId: string, client: Client, audience: string, context: ClientContext<Client>): Promise<void>;

  checkReady(context: OperationContext): Promise<ReadinessReport>;
  /** For `dcr-bridge doctor`; passed through to `DcrAdapter.diagnostics`. */
  readonly diagnostics?: AdapterDiagnostics;
  close?(): Promise<void>;
}

/**
 * What a primitive acting on an existing client gets (`remove`, `rotateSecret`, `secrets`, `secretValue`,
 * `replaceRedirectUris`, `addAudience`, `removeAudience`): the operation's context, and a way to the client as
 * the IdP holds it now. Where core reads the client for the operation, `find` gets this same context object,
 * so an adapter may keep what that read carried for the primitives after it (keyed by the context).
 */
export interface ClientContext<Client> extends OperationContext {
  /**
   * The client as the IdP holds it now, for a primitive that writes it back whole (a PUT that replaces every
   * setting) and so must not start from the remembered `Client` it was handed. It is the read that proved
   * the client ours in this operation when core made one; otherwise core reads it now (`find`), checks the
   * marker again and remembers the fresh copy. One read per operation at most, however often it is called;
   * the copy is as the client was before this operation's own writes. Throws `not_found` when the IdP no
   * longer holds the client (core forgets it) and `client_not_managed` when it lost the marker.
   */
  current(): Promise<Client>;
}

export interface CreateContext<Client = unknown, Scope = string> extends OperationContext {
  /** Random, unique per create; the client carries it so that a create can be found after a crash. */
  nonce: string;
  /**
   * The registration's scopes, in its order: as the IdP's `looked-up` scope list resolved them (`Scope`),
   * otherwise their names.
   */
  scopes: Scope[];
  /**
   * Tells core that the IdP now holds `clientId`: from then on core deletes it if anything fails. Where the
   * adapter has no `findByNonce`, the id is journaled before the promise resolves; otherwise it is journaled
   * with the answering mark, and a crash in between is recovered by the nonce search. Pass the client as
   * `find` would return it when the create has it (the IdP's answer, or what was sent plus the id the IdP
   * gave): core remembers it, so a rotate or delete right after needs no read.
   */
  created(clientId: string, client?: Client): Promise<void>;
}

/**
 * # Rotation: how each IdP keeps the secret Konnect holds working
 *
 * A rotation whose answer never reached Konnect (a lost answer, Konnect's deadline, a crash) must leave the
 * secret Konnect holds working. Core journals every rotation (intent before the IdP call, `answering` just
 * before the answer leaves) and chooses, from the primitives an adapter gives, one of three modes:
 *
 * - `two-secrets` (`secrets`): the new secret is added beside the old one; the old one is retired only once
 *   Konnect's connection took the answer (or, with an overlap, when the overlap ends). A rotation Konnect did
 *   not get retires the new secret instead; a secret the IdP adds late (after the bridge gave up) is found by
 *   listing and retired. Rotations keep at most two secrets: a second rotation within the overlap retires the
 *   oldest first.
 * - `restore` (`rotateSecret` + `secretValue`): Konnect's secret is read before the rotation and kept, sealed,
 *   for the rotation's lifetime (in the vault, `LifecycleOptions.vault`); when Konnect did not get the new
 *   secret, the old one is put back, and again once a late rotation can no longer land.
 * - `replace` (`rotateSecret` only): as the IdP allows: such a rotation is logged at warn with the client id.
 */
export type RotationMode = 'two-secrets' | 'restore' | 'replace';

/** One of a client's secrets, by the IdP's id for it (never its value). */
export interface IdpSecret {
  /** Stable for the secret's life; a digest of its value where the IdP gives no id. */
  id: string;
  /** When the IdP issued it, where it says; core orders by it (and by list order) to find the newest. */
  createdAt?: Date;
}

export interface ClientSecrets<Client> {
  /** How many secrets the IdP lets one client hold at once (at least 2). */
  readonly max: number;
  /** The client's secrets that work now, oldest first. */
  list(clientId: string, client: Client, context: ClientContext<Client>): Promise<IdpSecret[]>;
  /** Adds a secret; the others keep working. */
  add(clientId: string, client: Client, context: ClientContext<Client>): Promise<IdpSecret & { secret: string }>;
  /** Makes the secret stop working (deactivate and delete where the IdP wants both). Resolves when it is gone, also when it already was. */
  remove(clientId: string, client: Client, secretId: string, context: ClientContext<Client>): Promise<void>;
}

export interface SecretValue<Client> {
  /**
   * The client's current secret, or a value that `set` turns back into it (an IdP's encrypted form; then
   * give `comparable: false`). Sealed in the vault while the rotation may still change the IdP's.
   */
  read(clientId: string, client: Client, context: ClientContext<Client>): Promise<string>;
  /**
   * False when two reads of the same secret differ (an encrypted form made anew at each read): core then puts
   * the secret back without first reading whether it changed. Default true.
   */
  readonly comparable?: boolean;
  /** Sets the client's secret to `secret` (the old one stops working). */
  set(clientId: string, client: Client, secret: string, context: ClientContext<Client>): Promise<void>;
}
