import { BridgeError, uniqueName, type ClientRegistration, type Logger, type OAuthGrantType } from '@dcr-bridge/core';
import type { OAuthFlowType, UserPoolClientType } from '@aws-sdk/client-cognito-identity-provider';
import { IDP_NAME } from './identity.js';

/**
 * What happens when Konnect asks for client_credentials together with a browser flow, which Cognito
 * forbids on one app client: refuse (default), keep only client_credentials, or keep only the browser flows.
 */
export const MIXED_FLOW_POLICIES = ['reject', 'client_credentials_only', 'browser_flows_only'] as const;
export type MixedFlowPolicy = (typeof MIXED_FLOW_POLICIES)[number];

export interface AppClientSettings {
  /** Start of every ClientName the bridge creates: the ownership marker. Default `konnect-`. */
  namePrefix: string;
  mixedFlows: MixedFlowPolicy;
  /** Scopes for clients whose Konnect request carries none (Cognito OAuth clients need at least one). */
  defaultScopes: string[];
}

const FLOWS: Partial<Record<OAuthGrantType, OAuthFlowType>> = {
  client_credentials: 'client_credentials',
  authorization_code: 'code',
  implicit: 'implicit',
};

/** What Cognito's token endpoint accepts from a client with a secret (it has no client_secret_jwt or private_key_jwt). */
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];

/** Refuses a token_endpoint_auth_method Cognito cannot give the client, instead of creating a secret client anyway. */
export function checkAuthMethod(registration: ClientRegistration): void {
  if (!AUTH_METHODS.includes(registration.tokenEndpointAuthMethod)) {
    throw new BridgeError(
      'invalid_client_metadata',
      `token_endpoint_auth_method "${registration.tokenEndpointAuthMethod}" is not one ${IDP_NAME} app clients support (${AUTH_METHODS.join(', ')}).`,
    );
  }
}

export function isManaged(client: UserPoolClientType, settings: AppClientSettings): boolean {
  return typeof client.ClientName === 'string' && client.ClientName.startsWith(settings.namePrefix);
}

/** Cognito's flows for Konnect's grant types, applying the mixed-flow policy (and saying so in the log). */
export function oauthFlows(registration: ClientRegistration, settings: AppClientSettings, logger: Logger): OAuthFlowType[] {
  const unsupported = registration.grantTypes.filter((grant) => !(grant in FLOWS) && grant !== 'refresh_token');
  if (unsupported.length > 0)
    throw new BridgeError(
      'invalid_client_metadata',
      `${IDP_NAME} app clients cannot use the grant type${unsupported.length > 1 ? 's' : ''} ${unsupported.join(', ')} through OAuth.`,
    );
  const flows = registration.grantTypes.map((grant) => FLOWS[grant]).filter((flow): flow is OAuthFlowType => flow !== undefined);
  const browser = flows.filter((flow) => flow !== 'client_credentials');
  if (!flows.includes('client_credentials') || browser.length === 0) return flows;
  switch (settings.mixedFlows) {
    case 'reject':
      throw new BridgeError(
        'invalid_client_metadata',
        `${IDP_NAME} allows client_credentials only on its own, and this application asks for it with ${browser.join(' and ')}. Use separate auth strategies in Konnect, or set COGNITO_MIXED_FLOWS.`,
      );
    case 'client_credentials_only':
      logger.warn(
        `${IDP_NAME} cannot combine client_credentials with browser flows: keeping client_credentials only (COGNITO_MIXED_FLOWS)`,
        { requested: registration.requestedGrantTypes, dropped: browser },
      );
      return ['client_credentials'];
    case 'browser_flows_only':
      logger.warn(
        `${IDP_NAME} cannot combine client_credentials with browser flows: keeping the browser flows only (COGNITO_MIXED_FLOWS)`,
        { requested: registration.requestedGrantTypes, dropped: ['client_credentials'] },
      );
      return browser;
  }
}

/**
 * ClientName: the prefix plus a slug of Konnect's name and the create's nonce, within Cognito's rules
 * (1–128 characters of `[\w\s+=,.@-]`; the slug leaves out spaces). The nonce makes two applications of
 * the same name two clients, and lets a create be found again by its name.
 */
export function clientName(applicationName: string, nonce: string, settings: AppClientSettings): string {
  return uniqueName(applicationName, {
    prefix: settings.namePrefix,
    keepCase: true,
    disallowed: /[^\w+=,.@-]+/g,
    maxLength: 128,
    suffix: nonce,
  });
}
