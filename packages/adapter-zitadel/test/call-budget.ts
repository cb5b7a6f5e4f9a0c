import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // A service user (client_credentials): CreateUser, SetUserMetadata (its redirect URIs), AddSecret.
  create: { remembered: 3, cold: 3 },
  // AddSecret replaces the secret; cold: GetUserByID first.
  rotate: { remembered: 1, cold: 2 },
  // SetUserMetadata of the redirect URIs; cold: GetUserByID first.
  update: { remembered: 1, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // DeleteUser; cold: GetUserByID first.
  delete: { remembered: 1, cold: 2 },
};
