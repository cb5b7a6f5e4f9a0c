import type { DcrAdapter, LifecycleSettings, Logger } from '@dcr-bridge/core';
import type { FakeIdpKit } from '../fake-kit.js';
import type { ScenarioId } from './scenarios.js';

/**
 * What the scenarios check at the IdP, through a backdoor that does not go through the bridge.
 */
export interface ConformanceBackdoor {
  /** Requests a token from the IdP with these credentials (client_credentials); true when one is issued. */
  canGetToken(clientId: string, clientSecret: string): Promise<boolean>;
  /** Whether the IdP holds this client. */
  clientExists(clientId: string): Promise<boolean>;
  /** The client's redirect URIs as the IdP holds them. */
  redirectUris(clientId: string): Promise<string[]>;
  /** Creates a client directly at the IdP, without the bridge's ownership marker; returns its client id. */
  createForeignClient(): Promise<string>;
  /** How many clients the IdP holds; proves that refused or failed creates leave nothing behind. */
  countClients(): Promise<number>;
  /** The audiences the client's access tokens carry (required for `audienceRegistrations`). */
  audiences?(clientId: string): Promise<string[]>;
  /**
   * A setting of the client that an administrator may change at the IdP and the bridge never sets (a
   * description, a label, a custom attribute), set and read directly at the IdP (its admin API, never the
   * adapter), for `lifecycle/keeps-changes-made-at-the-idp`. Choose one that a write of the whole client
   * would send back: the scenario then fails an adapter that writes back a copy it remembered.
   */
  adminSetting?: AdminSetting;
}

/** See `ConformanceBackdoor.adminSetting`. */
export interface AdminSetting {
  /**
   * Sets the setting of the client to `value` at the IdP, as an administrator would. `value` is letters, digits
   * and hyphens, so that it fits where the setting is a URL or a name (e.g. `https://admin.example.com/<value>`).
   */
  set(clientId: string, value: string): Promise<void>;
  /** The setting as the IdP holds it now. */
  get(clientId: string): Promise<string | undefined>;
}

/**
 * The IdP's side of the wire, for the `idp plumbing` group: usually read from and driven through the fake.
 * A scenario that needs a hook the target does not give fails, naming the hook and the opt-out to use.
 */
export interface ConformanceIdpPlumbing {
  /**
   * `METHOD /path?query` of every request the IdP's admin API received, oldest first, its token endpoint
   * left out (the kit's `requests`, filtered). Only grows.
   */
  adminRequests?(): readonly string[];
  /** A new adapter on the same IdP, with the same settings, that has fetched no admin token yet. The suite closes it. */
  coldAdapter?(): DcrAdapter;
  /** How many admin tokens the IdP has issued to the bridge so far. */
  adminTokensIssued?(): number;
  /**
   * Makes the IdP answer the next request that creates a client as it answers when it rate-limits, asking
   * to retry after `retryAfterSeconds` where its 429 can say so. Returns the wait its answer asked for, or
   * undefined when the IdP's 429 names none.
   */
  rateLimitNextCreate?(retryAfterSeconds: number): number | undefined;
  /** Makes the IdP rate-limit the next request that looks a client up by its id, asking to retry after `retryAfterSeconds`. */
  rateLimitNextLookup?(retryAfterSeconds: number): void;
  /** A new adapter on the same IdP whose admin credentials the IdP refuses, and the refused secret value. The suite closes it. */
  refusedCredentials?(): { adapter: DcrAdapter; secret: string };
}

/** IdP requests of one Konnect operation: on the adapter that created the client, and on one that has never seen it. */
export interface OperationCalls {
  /** On the adapter that created the client (core remembers it). */
  remembered: number;
  /** On a new adapter on the same IdP (`build`), made ready first, that has never seen the client: as after a restart. */
  cold: number;
}

/**
 * What each Konnect operation costs at the IdP: the admin requests (`idp.adminRequests`, token requests aside)
 * from Konnect's call until the adapter's background work is drained (a secret retired after the answer
 * counts). The `calls` group holds the adapter to it exactly, and the README's table of IdP calls per Konnect
 * operation says the same (scripts/conventions.test.ts). Give the reason of each number in a comment.
 */
export interface CallBudget {
  /** A create with the target's `application`; remembered: a create after an earlier one of the same adapter. */
  create: OperationCalls;
  /** new-secret, the old secret's retirement after the answer included (required when the adapter rotates). */
  rotate?: OperationCalls;
  /** update_application (required when the adapter updates redirect URIs). */
  update?: OperationCalls;
  /** Each of add_registration and remove_registration with an audience (0 where they are acknowledged only). */
  registration: OperationCalls;
  delete: OperationCalls;
}

export interface ConformanceTarget {
  adapter: DcrAdapter;
  backdoor: ConformanceBackdoor;
  /** Fields of the create payload this IdP needs (grant types, scopes that exist there, redirect URIs). */
  application?: Record<string, unknown>;
  /** Redirect URIs for the update_application scenario. Default two https URIs. */
  updatedRedirectUris?: string[];
  /** A scope this IdP does not have: a create asking for it must answer 400 and leave nothing (`contract/unknown-scope`). */
  unknownScope?: string;
  /** A client id no client has. Default a random one. */
  unknownClientId?: string;
  /**
   * Logger for the bridge: a capturing logger (`createCapturingLogger`), so that the suite checks that no
   * secret it was handed, and none of `hiddenValues`, ever reached a log line (`logs/no-secrets`).
   */
  logger?: Logger;
  /** Values that must never be logged besides the client secrets: admin credentials, API tokens. */
  hiddenValues?: string[];
  /**
   * How the adapter sees a client it did not create. `refused` (default): it can tell, and answers 403
   * `client_not_managed`. `unknown`: it cannot even see it (RFC 7592 needs the registration access token
   * that only the creator holds), so it answers as for an unknown client (delete 204, rotate and update
   * 404). Either way the client must stay untouched.
   */
  foreignClients?: 'refused' | 'unknown';
  /**
   * The fake's fault layer (the kit's `injectFaults`/`settle`/`faults`), for `faults/konnect-load`: Konnect's
   * traffic while a fifth of the IdP's requests misbehave in every way the kit knows.
   */
  faults?: Pick<FakeIdpKit, 'injectFaults' | 'settle' | 'faults' | 'faultNext'>;
  /**
   * Another adapter on the same IdP with the same settings, built with these lifecycle settings (journal,
   * vault, rotation overlap) as the server builds one at a (re)start: `createXAdapter({ ...options, ...settings })`.
   * The `rotation` group builds two on one journal to play a crash and a restart. The suite closes it.
   */
  build?(settings: LifecycleSettings): DcrAdapter;
  /**
   * The IdP request that gives a client its new secret (the add where the IdP keeps two secrets, else the
   * rotation itself), for the `rotation` group's faults.
   */
  rotationRequest?: { method: string; path: RegExp };
  /**
   * What this IdP's API makes impossible under faults, with the requests concerned. The fault group then
   * tolerates at most one orphan per `processed_answer_lost` fault on `unsearchableCreate` (a create whose
   * answer was lost cannot be found when the IdP cannot be searched), and at most one unmanageable client
   * per such fault on `tokenRotatingUpdate` (an update that rotated the only management token and lost its
   * answer). Everything else stays at zero.
   */
  faultLimits?: {
    unsearchableCreate?: { method: string; path: RegExp };
    tokenRotatingUpdate?: { method: string; path: RegExp };
  };
  /** The IdP's side of the wire, for the `idp plumbing` and `calls` groups. */
  idp?: ConformanceIdpPlumbing;
  /** The IdP requests each Konnect operation costs, for the `calls` group. */
  callBudget?: CallBudget;
}

export interface ConformanceOptions {
  /** Shown in the test names, e.g. "keycloak (fake admin API)". */
  name: string;
  /** Builds the adapter and its backdoor (start servers here). */
  setup: () => Promise<ConformanceTarget>;
  /** Stops what setup started. */
  teardown?: () => Promise<void>;
  /**
   * Scenarios this target opts out of, each with the reason (shown in the skipped test's name). An id the
   * suite does not know, or an empty reason, is an error: a typo never silently skips nothing.
   */
  skip?: Partial<Record<ScenarioId, string>>;
}
