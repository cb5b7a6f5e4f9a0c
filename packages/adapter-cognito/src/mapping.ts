import {
  BridgeError,
  uniqueName,
  type ClientRegistration,
  type Logger,
  type OAuthGrantType,
  type RegistrationRules,
} from '@dcr-bridge/core';
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

/**
 * What a Cognito app client accepts: Cognito's token endpoint takes a secret as client_secret_basic or
 * client_secret_post (it has no client_secret_jwt or private_key_jwt). Cognito refuses a scope no resource server
 * of the user pool defines when the client is created (see errors.ts).
 */
export const REGISTRATION: RegistrationRules = {
  idp: IDP_NAME,
  clients: `${IDP_NAME} app clients`,
  authMethods: ['client_secret_basic', 'client_secret_post'],
  grantTypes: [...(Object.keys(FLOWS) as OAuthGrantType[]), 'refresh_token'],
  scopes: { kind: 'checked-by-idp' },
};

export function isManaged(client: UserPoolClientType, settings: AppClientSettings): boolean {
  return typeof client.ClientName === 'string' && client.ClientName.startsWith(settings.namePrefix);
}

/** Cognito's flows for Konnect's grant types, applying the mixed-flow policy (and saying so in the log). */
export function oauthFlows(registration: ClientRegistration, settings: AppClientSettings, logger: Logger): OAuthFlowType[] {
  const flows = registration.grantTypes.map((grant) => FLOWS[grant]).filter((flow): flow is OAuthFlowType => flow !== undefined);
  const browser = flows.filter((flow) => flow !== 'client_credentials');
  if (!flows.includes('client_credentials') || browser.length === 0) return flows;
  switch (settings.mixedFlows) {
    case 'reject':
      throw new BridgeError(
        'invalid_client_metadata',
        `${IDP_NAME} allows client_credentials only on its own, and this application asks for it with ${browser.join(' and ')}. Use separate auth strategies in Konnect, or set the adapter's mixedFlows.`,
      );
    case 'client_credentials_only':
      logger.warn(`${IDP_NAME} cannot combine client_credentials with browser flows: keeping client_credentials only (mixedFlows)`, {
        requested: registration.requestedGrantTypes,
        dropped: browser,
      });
      return ['client_credentials'];
    case 'browser_flows_only':
      logger.warn(`${IDP_NAME} cannot combine client_credentials with browser flows: keeping the browser flows only (mixedFlows)`, {
        requested: registration.requestedGrantTypes,
        dropped: ['client_credentials'],
      });
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
