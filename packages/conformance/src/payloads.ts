import { randomUUID } from 'node:crypto';

/**
 * Request bodies as Konnect sends them (spec 2024-12: every id present; `bearer` may stand for
 * client_credentials). Overrides replace fields; extra fields are kept, as Konnect adds fields over time.
 */
export function konnectApplication(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: `Conformance app ${randomUUID().slice(0, 8)}`,
    application_description: 'Created by the dcr-bridge conformance suite',
    redirect_uris: ['https://app.example.com/callback'],
    grant_types: ['client_credentials'],
    scopes: [],
    token_endpoint_auth_method: 'client_secret_post',
    portal_id: randomUUID(),
    organization_id: randomUUID(),
    developer_id: randomUUID(),
    auth_strategy_id: randomUUID(),
    dcr_provider_id: randomUUID(),
    ...overrides,
  };
}

/** What the DCR provider's "Verify" button sends: a real create with a portal_id that is not a UUID. */
export function konnectVerifyApplication(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return konnectApplication({ client_name: 'test application', portal_id: 'test portal_id', ...overrides });
}

export function konnectEvent(
  clientId: string,
  event:
    | { event_type: 'update_application'; redirect_uris: string[] }
    | { event_type: 'add_registration' | 'remove_registration'; api_product_version_id?: string; audience?: string },
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    client_id: clientId,
    application_id: randomUUID(),
    application_name: 'Conformance app',
    application_description: 'Created by the dcr-bridge conformance suite',
    portal_id: randomUUID(),
    organization_id: randomUUID(),
    developer_id: randomUUID(),
    auth_strategy_id: randomUUID(),
    dcr_provider_id: randomUUID(),
    ...event,
  };
  if (event.event_type !== 'update_application' && body.api_product_version_id === undefined) body.api_product_version_id = randomUUID();
  return body;
}
