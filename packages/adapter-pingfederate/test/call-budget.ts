import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // With scopes: the authorization server's settings read (its scopes), the client.
  create: { remembered: 2, cold: 2 },
  // Restore: the client read (its encryptedSecret, to put back), then the PUT of the new secret.
  rotate: { remembered: 2, cold: 2 },
  // The client read, then PUT back whole with the new redirect URIs.
  update: { remembered: 2, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // DELETE of the client; cold: the client read first.
  delete: { remembered: 1, cold: 2 },
};
