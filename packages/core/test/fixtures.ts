import { vi } from 'vitest';
import type { ClientRegistration, DcrAdapter, RegistrationRules } from '../src/index.js';

/** Konnect request bodies and a recording adapter, shared by the HTTP layer tests. */
export function konnectBody(overrides: Record<string, unknown> = {}) {
  return {
    client_name: 'My app',
    application_description: '',
    redirect_uris: ['https://app.example.com/cb'],
    grant_types: ['bearer'],
    scopes: ['read'],
    token_endpoint_auth_method: 'client_secret_post',
    portal_id: 'test portal_id',
    organization_id: 'org',
    developer_id: 'dev',
    auth_strategy_id: 'strategy',
    dcr_provider_id: 'provider',
    ...overrides,
  };
}

export function eventBody(clientId: string, overrides: Record<string, unknown> = {}) {
  return {
    event_type: 'update_application',
    client_id: clientId,
    redirect_uris: ['https://new.example.com/cb'],
    application_id: 'app',
    application_name: 'My app',
    application_description: 'desc',
    portal_id: 'portal',
    organization_id: 'org',
    developer_id: 'dev',
    auth_strategy_id: 'strategy',
    dcr_provider_id: 'provider',
    ...overrides,
  };
}

export function fakeAdapter(overrides: Partial<DcrAdapter> = {}): DcrAdapter & { calls: string[] } {
  const calls: string[] = [];
  return {
    id: 'fake',
    calls,
    capabilities: { rotateSecret: true, updateRedirectUris: true, audienceRegistrations: false },
    createClient: vi.fn(async (registration: ClientRegistration) => {
      calls.push('create');
      return {
        clientId: `id-${registration.clientName}`,
        clientSecret: 'super-secret-value',
        clientIdIssuedAt: new Date('2026-01-02T03:04:05Z'),
      };
    }),
    deleteClient: vi.fn(async () => void calls.push('delete')),
    rotateSecret: vi.fn(async (clientId: string) => {
      calls.push('rotate');
      return { clientId, clientSecret: 'rotated-secret-value' };
    }),
    applyEvent: vi.fn(async () => void calls.push('event')),
    checkReady: async () => ({ ready: true }),
    ...overrides,
  } as DcrAdapter & { calls: string[] };
}

/** A registration declaration that leaves every check to the IdP: for test IdPs whose rules are not under test. */
export const ANY_REGISTRATION: RegistrationRules = {
  idp: 'Test IdP',
  clients: 'test clients',
  authMethods: 'checked-by-idp',
  grantTypes: 'checked-by-idp',
  scopes: { kind: 'any' },
};
