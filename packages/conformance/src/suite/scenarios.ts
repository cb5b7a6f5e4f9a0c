import { it, type TestContext } from 'vitest';

/** Every scenario of the suite by its id (the key of an opt-out), with what it proves (its test name). */
export const SCENARIOS = {
  'lifecycle/create': 'creates a client whose credentials get a token',
  'lifecycle/rotate': 'rotates the secret: the old one is refused, the new one works',
  'lifecycle/rotate-twice': 'rotates twice: only the newest secret works',
  'lifecycle/update-redirect-uris': 'update_application replaces the redirect URIs and nothing else',
  'lifecycle/audience-registrations': 'add_registration / remove_registration with an audience change the token audience',
  'lifecycle/registration-without-audience': 'add_registration without an audience is acknowledged',
  'lifecycle/keeps-changes-made-at-the-idp':
    'update_application and a rotation of a client the bridge remembers keep a setting an administrator changed at the IdP meanwhile',
  'lifecycle/delete': 'deletes the client: it is gone and its credentials are refused',
  'lifecycle/delete-twice': 'deletes a client twice: 204 both times',
  'contract/unknown-delete': 'delete of a client that never existed answers 204',
  'contract/unknown-rotate': 'rotate of an unknown client answers 404',
  'contract/unknown-update': 'update_application of an unknown client answers 404',
  'contract/foreign-delete': 'delete of a client the bridge did not create is refused (or treated as unknown) and the client stays',
  'contract/foreign-rotate': 'rotate of a client the bridge did not create is refused (or treated as unknown)',
  'contract/foreign-update':
    'update_application of a client the bridge did not create is refused (or treated as unknown) and the redirect URIs stay',
  'contract/verify-button': 'the Verify button (portal_id "test portal_id") creates a working client',
  'contract/same-name': 'two applications with the same name both get their own client',
  'contract/unknown-fields': 'fields the spec does not list yet are tolerated',
  'contract/wrong-api-key': 'a wrong API key answers 401 and creates nothing',
  'contract/invalid-redirect-uri': 'an invalid redirect URI answers 400 invalid_redirect_uri and creates nothing',
  'contract/unknown-scope': 'a scope the IdP does not have answers 400 naming it and creates nothing',
  'contract/unsupported-auth-method':
    'a token_endpoint_auth_method the adapter declares its IdP cannot give answers 400 naming it, before any IdP call',
  'contract/unsupported-grant-type': 'a grant type the adapter declares its IdP cannot enable answers 400 naming it, before any IdP call',
  'contract/no-idp-detail':
    "no error answer of the run, nor those of IdP failures it forces, carries a URL, a host:port, the IdP's words or a hidden value",
  'races/rotate-and-update':
    'ten rounds of a rotation and an update at once: both succeed, only the new secret works, the URIs are the new ones',
  'races/two-rotations': 'two rotations at once: both answer 200 and exactly one of the two secrets works',
  'races/delete-rotate-update': 'a delete, a rotation and an update at once: the client ends deleted, every secret dead, no 5xx',
  'rotation/answer-lost':
    'a rotation whose answer the IdP loses: the secret Konnect holds keeps working (or, where the IdP allows neither two secrets nor a restore, a warning names the client)',
  'rotation/processed-late':
    'a rotation the IdP processes after the bridge gave up: the secret Konnect holds works again once it can no longer land (or a warning names the client)',
  'rotation/crash-in-flight':
    'a process that dies with a rotation in flight: the next one leaves the secret Konnect holds working (or names the client)',
  'rotation/overlap':
    'with an overlap, old and new secrets both work until it ends, then only the new one, also across a restart (refused at build where the IdP keeps one secret)',
  'rotation/overlap-twice': 'two rotations within the overlap: the oldest secret stops at the second, the middle one when the overlap ends',
  'recovery/unanswered-create': 'a create whose answer Konnect never got: the client is deleted and its credentials get no token',
  'recovery/crash':
    "a process that dies before Konnect got a create's answer: a second adapter on its journal deletes the client at recover()",
  'recovery/by-nonce':
    'a create whose client id never reached the journal: recover() finds the client by the nonce its name carries and deletes it alone',
  'recovery/never-created': 'an open create that never reached the IdP: recover() closes it and deletes nothing',
  'calls/create': 'a create costs the IdP requests the target declares (callBudget.create), remembered and cold',
  'calls/rotate': 'a rotation costs the IdP requests the target declares, the old secret retired after the answer included',
  'calls/update': 'update_application costs the IdP requests the target declares, remembered and cold',
  'calls/registration': 'add_registration and remove_registration each cost the IdP requests the target declares',
  'calls/delete': 'a delete costs the IdP requests the target declares, remembered and cold',
  'faults/konnect-load': 'keeps its promises while a fifth of the IdP requests fail, hang, or complete late or unanswered',
  'logs/no-secrets': 'no client secret the bridge handed out, nor any hidden value, reaches a log line',
  'idp-plumbing/one-admin-token': 'eight concurrent creates on a cold adapter fetch exactly one admin token',
  'idp-plumbing/encoded-path-segments': 'client ids with "/", "%", "?" and ".." reach the IdP whole, in one path segment or query value',
  'idp-plumbing/rate-limited-create':
    "a create the IdP rate-limits answers 503 idp_rate_limited with the IdP's Retry-After, creating nothing",
  'idp-plumbing/rate-limited-lookup': 'a lookup the IdP rate-limits briefly is retried: the delete answers 204',
  'idp-plumbing/refused-credentials-create':
    'refused admin credentials: a create answers 502 idp_error without the secret, creating nothing',
  'idp-plumbing/refused-credentials-delete': 'refused admin credentials: a delete answers 502 idp_error, never 204, and the client stays',
  'idp-plumbing/route-templates': 'every IdP call of a create, rotate, update and delete names its route template',
} as const;

export type ScenarioId = keyof typeof SCENARIOS;

export type ScenarioTest = (ctx: TestContext) => Promise<void> | void;

/** Declares one scenario as a vitest test, or as a skipped one when the target opted out of it. */
export type DefineScenario = (id: ScenarioId, test: ScenarioTest, options?: { timeout?: number }) => void;

/**
 * The scenario declarer for one run, with the target's opt-outs; throws at once for an opt-out naming no
 * scenario or stating no reason. `checkComplete()`, once every group is declared, throws for a scenario of
 * the table that no group declared.
 */
export function scenarioRegistry(skip: Partial<Record<string, string>> = {}): { scenario: DefineScenario; checkComplete(): void } {
  const unknown = Object.keys(skip).filter((id) => !(id in SCENARIOS));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown conformance scenario id(s) in skip: ${unknown.map((id) => JSON.stringify(id)).join(', ')}. Known ids: ${Object.keys(SCENARIOS).join(', ')}.`,
    );
  }
  const unexplained = Object.entries(skip).filter(([, reason]) => typeof reason !== 'string' || reason.trim() === '');
  if (unexplained.length > 0) throw new Error(`Conformance opt-outs must state a reason: ${unexplained.map(([id]) => id).join(', ')}.`);

  const declared = new Set<ScenarioId>();
  return {
    scenario(id, test, options) {
      if (declared.has(id)) throw new Error(`Conformance scenario ${id} is declared twice.`);
      declared.add(id);
      const name = `${id}: ${SCENARIOS[id]}`;
      const reason = skip[id];
      if (reason !== undefined) it.skip(`${name} (opted out: ${reason})`);
      else it(name, options ?? {}, test);
    },
    checkComplete() {
      const missing = (Object.keys(SCENARIOS) as ScenarioId[]).filter((id) => !declared.has(id));
      if (missing.length > 0) throw new Error(`Conformance scenarios listed but never declared: ${missing.join(', ')}.`);
    },
  };
}

/**
 * A hook of the target that a scenario needs; throws when the target does not give it, saying how to
 * give it or opt out, so that a missing hook never passes for a skipped scenario.
 */
export function required<T>(value: T | undefined, hook: string, id: ScenarioId): T {
  if (value === undefined) {
    throw new Error(`Scenario ${id} needs ConformanceTarget.${hook}: give it, or opt out with skip: { '${id}': '<why this IdP cannot>' }.`);
  }
  return value;
}
