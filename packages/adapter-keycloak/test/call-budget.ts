import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // With one scope: the realm's client scopes read, the client, the scope assigned.
  create: { remembered: 3, cold: 3 },
  // Restore: Konnect's secret read, then the regenerate; cold: the clientId look-up first.
  rotate: { remembered: 2, cold: 3 },
  // The PUT of the client; cold: the clientId look-up first.
  update: { remembered: 1, cold: 2 },
  // The audience mapper added or deleted; cold: the clientId look-up first.
  registration: { remembered: 1, cold: 2 },
  // DELETE of the client; cold: the clientId look-up first.
  delete: { remembered: 1, cold: 2 },
};
