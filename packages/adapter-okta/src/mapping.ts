import { uniqueName, type ClientRegistration, type RegistrationRules } from '@dcr-bridge/core';
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

/**
 * What Okta web and service apps accept. Okta apps hold no scope list: the custom authorization server's access
 * policies grant scopes at token time, so any scope name is accepted.
 */
export const REGISTRATION: RegistrationRules = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} web and service apps`,
  authMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'],
  grantTypes: ['client_credentials', 'authorization_code', 'refresh_token', 'implicit'],
  grantRequires: { refresh_token: 'authorization_code' },
  scopes: { kind: 'any' },
};

/**
 * Okta's rules: an app that only uses client_credentials is a `service` app (response type `token`);
 * one with a browser flow is a `web` app (authorization_code → `code`, implicit → `token`/`id_token`),
 * which may also use client_credentials. `consent_method: REQUIRED` is what clients made by Okta's Dynamic Client Registration API get; the Apps
 * API would default to `TRUSTED`, so it is set to keep the bridge's clients as they always were.
 */
export function oktaApp(registration: ClientRegistration, nonce: string): NewOktaApp {
  const grants = registration.grantTypes;
  const browser = grants.includes('authorization_code') || grants.includes('implicit');
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

/** Okta's organization URL from the `domain` option: `dev-1.okta.com`, `https://dev-1.okta.com/` (Kong's example) and `http://…` for tests. */
export function orgUrl(domain: string): string {
  const withScheme = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
  return new URL(withScheme).origin;
}
