import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // POST /api/v1/apps, the marker in the app profile.
  create: { remembered: 1, cold: 1 },
  // Two secrets: the secrets listed, the new one added; once Konnect has it the old one deactivated and deleted;
  // cold: GET of the app first.
  rotate: { remembered: 4, cold: 5 },
  // GET + PUT of the app (the PUT replaces it whole, so it is read first even when remembered).
  update: { remembered: 2, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // DELETE of the OAuth client; cold: GET of the app first.
  delete: { remembered: 1, cold: 2 },
};
