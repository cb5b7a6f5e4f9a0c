import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // With the target's one scope (3 + k + G, k = 2, G = 1): the resources listed, the scopes of the two read until it is
  // found, the application, its secret read, the grant.
  create: { remembered: 6, cold: 6 },
  // Two secrets (PingOne's previous one): the secret read, the new one, DELETE of the previous once Konnect has it;
  // cold: the application read first.
  rotate: { remembered: 3, cold: 4 },
  // The application read, then PUT back whole.
  update: { remembered: 2, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // DELETE of the application; cold: the application read first.
  delete: { remembered: 1, cold: 2 },
};
