import { BridgeError } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

/**
 * AWS error names → the bridge's codes, with AWS's own message in the error's message (the log; it carries
 * no secret). Konnect reads what was refused, never AWS's words (they may name the user pool or its ids).
 */
export function fromAwsError(error: unknown, action: string): BridgeError {
  if (error instanceof BridgeError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  const message = (error as { message?: string } | undefined)?.message ?? '';
  const said = `${IDP_NAME} refused ${action}: ${message} (${name})`;
  switch (name) {
    case 'ScopeDoesNotExistException': {
      // "Invalid scope requested: orders/delete": the scope is the one Konnect sent, so Konnect may read it.
      const scope = /requested:\s*(\S+)/i.exec(message)?.[1];
      return new BridgeError('invalid_scope', `${said}. Define the scope on a resource server of the user pool.`, {
        cause: error,
        publicDescription: `${IDP_NAME} has no scope ${scope ? `"${scope}"` : 'of those this application asks for'}: ask your platform team to define it, or remove it in Konnect.`,
      });
    }
    case 'InvalidParameterException': {
      const redirect = /callback|url|redirect/i.test(message);
      return new BridgeError(redirect ? 'invalid_redirect_uri' : 'invalid_client_metadata', said, {
        cause: error,
        publicDescription: redirect
          ? `${IDP_NAME} refused the redirect URIs of this application (it takes https URIs, and http only for localhost). Check them.`
          : `${IDP_NAME} refused this application's settings. Check them, or ask your platform team which ones it accepts.`,
      });
    }
    case 'InvalidOAuthFlowException':
      return new BridgeError('invalid_client_metadata', said, {
        cause: error,
        publicDescription: `${IDP_NAME} refused the grant types of this application. Check them, or ask your platform team which ones it accepts.`,
      });
    case 'ResourceNotFoundException':
      return new BridgeError('not_found', said, {
        cause: error,
        publicDescription: `${IDP_NAME} has no such client.`,
      });
    case 'TooManyRequestsException':
      return new BridgeError('idp_rate_limited', `${IDP_NAME} is rate-limiting the bridge (${action}).`, {
        retryAfterSeconds: 1,
        cause: error,
      });
    case 'NotAuthorizedException':
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'CredentialsProviderError':
      return new BridgeError('idp_error', `${said}. Check the bridge's AWS credentials and its IAM policy (see the adapter's README).`, {
        cause: error,
      });
    case 'LimitExceededException':
      return new BridgeError('idp_error', `${said}. A ${IDP_NAME} quota was reached.`, { cause: error });
    case 'TimeoutError':
    case 'AbortError':
      return new BridgeError('idp_timeout', `${IDP_NAME} did not answer in time (${action}).`, { cause: error });
    case 'InternalErrorException':
      return new BridgeError('idp_unavailable', said, { cause: error });
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  if (status === undefined || status >= 500)
    return new BridgeError('idp_unavailable', `Could not reach ${IDP_NAME} (${action}): ${name}.`, { cause: error });
  return new BridgeError('idp_error', said, { cause: error });
}
