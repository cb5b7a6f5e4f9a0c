import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // POST to the registration endpoint (discovery is read once per process, by readiness before the first request).
  create: { remembered: 1, cold: 1 },
  // RFC 7592: GET of the configuration, PUT of it without the secret (the provider issues a new one).
  rotate: { remembered: 2, cold: 2 },
  // GET, then PUT of the whole configuration with the new redirect URIs.
  update: { remembered: 2, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // DELETE with the registration access token from the store: no read needed, remembered or cold.
  delete: { remembered: 1, cold: 1 },
};
