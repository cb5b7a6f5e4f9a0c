import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // With scopes: the target entity and its type read (its permissions), the entity, the grant.
  create: { remembered: 4, cold: 4 },
  // Restore: the entity read (Konnect's secret), then the PATCH of the new one.
  rotate: { remembered: 2, cold: 2 },
  // The entity read, then PUT back whole with the new redirect URIs.
  update: { remembered: 2, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // DELETE of the entity; cold: the entity read first.
  delete: { remembered: 1, cold: 2 },
};
