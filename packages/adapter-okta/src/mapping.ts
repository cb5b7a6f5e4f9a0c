import { BridgeError, uniqueName, type ClientRegistration } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

/**
 * An OAuth 2.0 client application as Okta's Apps API reads and writes it (`/api/v1/apps`, `name: oidc_client`).
 * Okta answers with more (accessibility, visibility, `_links`, …); a full-representation PUT sends it all back.
 */
export interface OktaApp {
  id: string;
  name?: string;
  label?: string;
  created?: string;
  credentials?: {
    oauthClient?: { client_id?: string; client_secret?: string; token_endpoint_auth_method?: string; [field: string]: unknown };
    [field: string]: unknown;
  };
  settings?: { oauthClient?: { redirect_uris?: string[]; [field: string]: unknown }; [field: string]: unknown };
  profile?: { dcrBridge?: Partial<BridgeProfile> } & Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * One of an app's client secrets as the Apps API lists it (`/api/v1/apps/{appId}/credentials/secrets`, Okta Admin
 * Management API 2026.06.3). `client_secret` is the value itself: never logged, never kept.
 */
export interface OktaSecret {
  id: string;
  status?: 'ACTIVE' | 'INACTIVE';
  client_secret?: string;
  secret_hash?: string;
  created?: string;
  lastUpdated?: string;
}

/** What the create sends: an `oidc_client` app, the marker in its profile. */
export interface NewOktaApp {
  name: 'oidc_client';
  label: string;
  signOnMode: 'OPENID_CONNECT';
  credentials: { oauthClient: { token_endpoint_auth_method: string } };
  settings: {
    oauthClient: {
      redirect_uris: string[];
      response_types: string[];
      grant_types: string[];
      application_type: 'web' | 'service';
      consent_method: 'REQUIRED';
    };
  };
  profile: { dcrBridge: BridgeProfile };
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

/** Okta wants unique app labels (an OIDC app's label is its client_name) and Konnect application names are not: the create nonce makes them unique. */
export function clientNameFor(clientName: string, nonce: string): string {
  return uniqueName(clientName, { keepCase: true, disallowed: /[^\p{L}\p{N} ._()-]+/gu, maxLength: 100, suffix: nonce });
}

const AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

/**
 * Okta's rules: an app that only uses client_credentials is a `service` app (response type `token`);
 * one with a browser flow is a `web` app (authorization_code → `code`, implicit → `token`/`id_token`),
 * which may also use client_credentials. Okta refuses grant types its application type cannot have.
 * `consent_method: REQUIRED` is what clients made by Okta's Dynamic Client Registration API get; the Apps
 * API would default to `TRUSTED`, so it is set to keep the bridge's clients as they always were.
 */
export function oktaApp(registration: ClientRegistration, nonce: string): NewOktaApp {
  if (!AUTH_METHODS.has(registration.tokenEndpointAuthMethod)) {
    throw new BridgeError(
      'invalid_client_metadata',
      `token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}" is not one the ${IDP_NAME} adapter can give a secret client (client_secret_basic, client_secret_post, client_secret_jwt).`,
    );
  }
  const grants = registration.grantTypes;
  const unsupported = grants.filter((grant) => !['client_credentials', 'authorization_code', 'refresh_token', 'implicit'].includes(grant));
  if (unsupported.length > 0)
    throw new BridgeError(
      'invalid_client_metadata',
      `${IDP_NAME} web and service apps cannot use the grant type${unsupported.length > 1 ? 's' : ''} ${unsupported.join(', ')}.`,
    );
  const browser = grants.includes('authorization_code') || grants.includes('implicit');
  if (grants.includes('refresh_token') && !grants.includes('authorization_code')) {
    throw new BridgeError('invalid_client_metadata', `${IDP_NAME} allows refresh_token only together with authorization_code.`);
  }
  const responseTypes = browser
    ? [...(grants.includes('authorization_code') ? ['code'] : []), ...(grants.includes('implicit') ? ['token', 'id_token'] : [])]
    : ['token'];
  return {
    name: 'oidc_client',
    label: clientNameFor(registration.clientName, nonce),
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: registration.tokenEndpointAuthMethod } },
    settings: {
      oauthClient: {
        redirect_uris: registration.redirectUris,
        response_types: responseTypes,
        grant_types: grants,
        application_type: browser ? 'web' : 'service',
        consent_method: 'REQUIRED',
      },
    },
    profile: { dcrBridge: bridgeProfile(registration) },
  };
}

/** The app without its client secret (Okta shows it in the answers to a create or an update only). */
export function withoutSecret(app: OktaApp): OktaApp {
  const oauthClient = app.credentials?.oauthClient;
  if (oauthClient === undefined || !('client_secret' in oauthClient)) return app;
  const { client_secret: _secret, ...rest } = oauthClient;
  return { ...app, credentials: { ...app.credentials, oauthClient: rest } };
}

export function bridgeProfile(registration: ClientRegistration): BridgeProfile {
  const { konnect } = registration;
  return {
    managed: true,
    portalId: konnect.portalId,
    organizationId: konnect.organizationId,
    developerId: konnect.developerId,
    authStrategyId: konnect.authStrategyId,
    dcrProviderId: konnect.dcrProviderId,
  };
}

/** Okta's error bodies: `{errorCode, errorSummary, errorCauses}` (management API) or `{error, error_description}` (OAuth endpoints). */
export function oktaMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as {
    errorSummary?: unknown;
    errorCode?: unknown;
    errorCauses?: Array<{ errorSummary?: unknown }>;
    error_description?: unknown;
    error?: unknown;
  };
  if (typeof record.errorSummary === 'string') {
    const causes = (record.errorCauses ?? [])
      .map((cause) => cause.errorSummary)
      .filter((summary): summary is string => typeof summary === 'string');
    return `${record.errorSummary}${causes.length > 0 ? ` (${causes.join('; ')})` : ''}${typeof record.errorCode === 'string' ? ` [${record.errorCode}]` : ''}`;
  }
  if (typeof record.error_description === 'string')
    return `${record.error_description}${typeof record.error === 'string' ? ` [${record.error}]` : ''}`;
  return typeof record.error === 'string' ? record.error : undefined;
}

/** Okta's organization URL from OKTA_DOMAIN: `dev-1.okta.com`, `https://dev-1.okta.com/` (Kong's example) and `http://…` for tests. */
export function orgUrl(domain: string): string {
  const withScheme = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
  return new URL(withScheme).origin;
}
