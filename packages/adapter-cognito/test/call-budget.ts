import type { CallBudget } from '@dcr-bridge/conformance';

/**
 * The IdP requests each Konnect operation costs (token requests aside), held exactly by the conformance suite's
 * `calls` group and the same as the README's table (scripts/conventions.test.ts checks both agree).
 */
export const callBudget: CallBudget = {
  // CreateUserPoolClient (SigV4: no token request).
  create: { remembered: 1, cold: 1 },
  // Two secrets: ListUserPoolClientSecrets, AddUserPoolClientSecret, DeleteUserPoolClientSecret of the old one once
  // Konnect has the new; cold: DescribeUserPoolClient first.
  rotate: { remembered: 3, cold: 4 },
  // DescribeUserPoolClient (UpdateUserPoolClient resets what it is not sent), UpdateUserPoolClient.
  update: { remembered: 2, cold: 2 },
  // Acknowledged without an IdP call: the adapter gives no audience primitives (capabilities.audienceRegistrations false).
  registration: { remembered: 0, cold: 0 },
  // DeleteUserPoolClient; cold: DescribeUserPoolClient first.
  delete: { remembered: 1, cold: 2 },
};
