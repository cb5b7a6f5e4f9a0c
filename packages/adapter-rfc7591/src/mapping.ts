import { BridgeError, type ClientRegistration } from '@dcr-bridge/core';
import type { IdpResponse } from '@dcr-bridge/core/idp';

/** RFC 7591 client metadata, as sent and as the IdP answers (RFC 7591 §2, §3.2.1; RFC 7592 §3). */
export interface ClientMetadata {
  client_id?: string;
  client_secret?: string;
  client_id_issued_at?: number;
  client_secret_expires_at?: number;
  registration_access_token?: string;
  registration_client_uri?: string;
  redirect_uris?: string[];
  [field: string]: unknown;
}

/** RFC 7592 §2.2: an update request must not carry these. */
const READ_ONLY_FIELDS = ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at'];

/**
 * RFC 7591 clients cannot be searched, so the client name carries the create's nonce: an operator can find
 * a client a crashed create may have left by the nonce the bridge logs. Only RFC 7591 §2 metadata: OpenID
 * Connect's `application_type` (which the bridge sent until checked against RFC 7591) defaults to `web` anyway.
 */
export function registrationMetadata(registration: ClientRegistration, nonce: string): ClientMetadata {
  const metadata: ClientMetadata = {
    client_name: `${registration.clientName} [${nonce}]`,
    redirect_uris: registration.redirectUris,
    grant_types: registration.grantTypes,
    // RFC 7591 defaults response_types to ["code"]; a client_credentials-only client must say it has none.
    response_types: responseTypes(registration.grantTypes),
    token_endpoint_auth_method: registration.tokenEndpointAuthMethod,
  };
  if (registration.scopes.length > 0) metadata.scope = registration.scopes.join(' ');
  return metadata;
}

function responseTypes(grantTypes: string[]): string[] {
  const types: string[] = [];
  if (grantTypes.includes('authorization_code')) types.push('code');
  if (grantTypes.includes('implicit')) types.push('token');
  return types;
}

/**
 * The body of an RFC 7592 update: the client's current metadata with the read-only fields removed.
 * `keepSecret: false` leaves `client_secret` out, which is how the bridge asks for a new one.
 */
export function updateBody(current: ClientMetadata, changes: Partial<ClientMetadata>, options: { keepSecret: boolean }): ClientMetadata {
  const body: ClientMetadata = { ...current, ...changes };
  for (const field of READ_ONLY_FIELDS) delete body[field];
  if (!options.keepSecret) delete body.client_secret;
  return body;
}

/** RFC 7591 §3.2.2 errors keep their code when the bridge has it; anything else is invalid metadata. */
export function registrationError(response: IdpResponse<unknown>): BridgeError | undefined {
  if (response.status !== 400) return undefined;
  const body = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as {
    error?: unknown;
    error_description?: unknown;
  };
  const description =
    typeof body.error_description === 'string' ? body.error_description : typeof body.error === 'string' ? body.error : 'no reason given';
  const code =
    body.error === 'invalid_redirect_uri'
      ? 'invalid_redirect_uri'
      : body.error === 'invalid_scope'
        ? 'invalid_scope'
        : 'invalid_client_metadata';
  // The IdP's words are for the log; Konnect reads what was refused.
  return new BridgeError(code, `The IdP refused the client metadata: ${description}`, { publicDescription: REFUSED[code] });
}

const REFUSED = {
  invalid_redirect_uri:
    'The identity provider refused the redirect URIs of this application. Check them, or ask your platform team which ones it accepts.',
  invalid_scope:
    'The identity provider refused a scope this application asks for. Check the scopes, or ask your platform team which ones it offers.',
  invalid_client_metadata:
    "The identity provider refused this application's settings. Check them, or ask your platform team which ones it accepts.",
} as const;

export function epochToDate(seconds: unknown): Date | undefined {
  return typeof seconds === 'number' && seconds > 0 ? new Date(seconds * 1000) : undefined;
}
