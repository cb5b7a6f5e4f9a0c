import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // The scope mappings read (to refuse an unknown scope first), the provider, the application; cold: the first create
  // of a process reads authentik's version once.
  create: { remembered: 3, cold: 4 },
  // Restore: Konnect's secret read first, then the PATCH; cold: the client_id look-up carries the secret.
  rotate: { remembered: 2, cold: 2 },
  // The PATCH of the redirect URIs; cold: the client_id look-up that proves the provider the bridge's first.
  update: { remembered: 1, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // The application and the provider, each deleted by its own endpoint; cold: the look-up first.
  delete: { remembered: 2, cold: 3 },
};
