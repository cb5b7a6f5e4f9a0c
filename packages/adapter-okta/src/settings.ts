import { BridgeError, uniqueName, type ClientRegistration } from '@dcr-bridge/core';

/** Okta's OAuth client (RFC 7591 shape) as /oauth2/v1/clients reads and writes it. */
export interface OktaClient {
  client_id?: string;
  client_secret?: string;
  client_id_issued_at?: number;
  client_secret_expires_at?: number;
  client_name: string;
  redirect_uris?: string[];
  response_types: string[];
  grant_types: string[];
  token_endpoint_auth_method: string;
  application_type: 'web' | 'service';
  [field: string]: unknown;
}

/** What the bridge keeps in the Apps API `profile` of each client it creates. */
export interface BridgeProfile {
  managed: true;
  portalId: string;
  organizationId: string;
  developerId: string;
  authStrategyId: string;
  dcrProviderId: string;
}

/** Okta wants unique client names and Konnect application names are not: the create nonce makes them unique. */
export function clientNameFor(clientName: string, nonce: string): string {
  return uniqueName(clientName, { keepCase: true, disallowed: /[^\p{L}\p{N} ._()-]+/gu, maxLength: 100, suffix: nonce });
}

const AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

/**
 * Okta's rules: an app that only uses client_credentials is a `service` app (response type `token`);
 * one with a browser flow is a `web` app (authorization_code → `code`, implicit → `token`/`id_token`),
 * which may also use client_credentials. Okta refuses grant types its application type cannot have.
 */
export function oktaClient(registration: ClientRegistration, nonce: string): OktaClient {
  if (!AUTH_METHODS.has(registration.tokenEndpointAuthMethod)) {
    throw new BridgeError('invalid_client_metadata', `token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}" is not one the Okta adapter can give a secret client (client_secret_basic, client_secret_post, client_secret_jwt).`);
  }
  const grants = registration.grantTypes;
  const unsupported = grants.filter((grant) => !['client_credentials', 'authorization_code', 'refresh_token', 'implicit'].includes(grant));
  if (unsupported.length > 0) throw new BridgeError('invalid_client_metadata', `Okta web and service apps cannot use the grant type${unsupported.length > 1 ? 's' : ''} ${unsupported.join(', ')}.`);
  const browser = grants.includes('authorization_code') || grants.includes('implicit');
  if (grants.includes('refresh_token') && !grants.includes('authorization_code')) {
    throw new BridgeError('invalid_client_metadata', 'Okta allows refresh_token only together with authorization_code.');
  }
  const responseTypes = browser ? [...(grants.includes('authorization_code') ? ['code'] : []), ...(grants.includes('implicit') ? ['token', 'id_token'] : [])] : ['token'];
  return {
    client_name: clientNameFor(registration.clientName, nonce),
    redirect_uris: registration.redirectUris,
    response_types: responseTypes,
    grant_types: grants,
    token_endpoint_auth_method: registration.tokenEndpointAuthMethod,
    application_type: browser ? 'web' : 'service',
  };
}

export function bridgeProfile(registration: ClientRegistration): BridgeProfile {
  const { konnect } = registration;
  return { managed: true, portalId: konnect.portalId, organizationId: konnect.organizationId, developerId: konnect.developerId, authStrategyId: konnect.authStrategyId, dcrProviderId: konnect.dcrProviderId };
}

/** Okta's error bodies: `{errorCode, errorSummary, errorCauses}` (management API) or `{error, error_description}` (OAuth endpoints). */
export function oktaMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as { errorSummary?: unknown; errorCode?: unknown; errorCauses?: Array<{ errorSummary?: unknown }>; error_description?: unknown; error?: unknown };
  if (typeof record.errorSummary === 'string') {
    const causes = (record.errorCauses ?? []).map((cause) => cause.errorSummary).filter((summary): summary is string => typeof summary === 'string');
    return `${record.errorSummary}${causes.length > 0 ? ` (${causes.join('; ')})` : ''}${typeof record.errorCode === 'string' ? ` [${record.errorCode}]` : ''}`;
  }
  if (typeof record.error_description === 'string') return `${record.error_description}${typeof record.error === 'string' ? ` [${record.error}]` : ''}`;
  return typeof record.error === 'string' ? record.error : undefined;
}

/** Okta's organization URL from OKTA_DOMAIN: `dev-1.okta.com`, `https://dev-1.okta.com/` (Kong's example) and `http://…` for tests. */
export function orgUrl(domain: string): string {
  const withScheme = /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
  return new URL(withScheme).origin;
}
