import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree). Replace the
 * numbers and their reasons with your IdP's.
 */
export const callBudget: CallBudget = {
  // With the target's one scope: the scopes read (an unknown one refused first), the client, its secret issued.
  create: { remembered: 3, cold: 3 },
  // The secret issued anew; cold: the client read first (to prove it the bridge's).
  rotate: { remembered: 1, cold: 2 },
  // The PUT of the redirect URIs; cold: the client read first.
  update: { remembered: 1, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // The DELETE; cold: the client read first.
  delete: { remembered: 1, cold: 2 },
};
