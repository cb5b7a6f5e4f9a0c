import { BridgeError } from '../errors.js';
import { redactText } from '../redact.js';
import type { IdpHttpClientOptions, IdpResponse } from './types.js';

/**
 * What turning an IdP answer the adapter did not want into a BridgeError needs of the client's options: the IdP's
 * name, and where its own words are in an error body. The message (the log) has the status and those words,
 * redacted; the code and the public description are what Konnect reads.
 */
export type ResponseErrorOptions = Pick<IdpHttpClientOptions, 'idpName' | 'describeErrorBody'>;

/** What Konnect reads when the IdP refused a write (`refusal`), after the IdP's name; its reason goes to the log. */
const REFUSED = {
  conflict: 'already holds an object that conflicts with this application. Ask your platform team to resolve it.',
  invalid_redirect_uri:
    'refused the redirect URIs of this application. Check them, or ask your platform team which ones the identity provider accepts.',
  invalid_client_metadata:
    "refused this application's settings (grant types, authentication method, scopes or name). Check them, or ask your platform team which ones the identity provider accepts.",
} as const;

/**
 * The BridgeError for a write the IdP refused: 400 or 422 → `invalid_redirect_uri` when the IdP's
 * message is about a redirect URI, else `invalid_client_metadata` (a 400 to Konnect saying what was
 * refused; the IdP's reason and the action are in the message, for the log); 409 → `conflict`; anything
 * else as `errorFromResponse`.
 */
export function refusal(options: ResponseErrorOptions, response: IdpResponse, action: string): BridgeError {
  if (![400, 409, 422].includes(response.status)) return errorFromResponse(options, response, action);
  const message = redactText(idpMessageOf(options, response) ?? 'no reason given').slice(0, 300);
  const description = `${options.idpName} refused ${action} (HTTP ${response.status}): ${message}`;
  // The IdP's words (and the action, which may name internal ids) are for the log; Konnect reads what was refused.
  const code = response.status === 409 ? 'conflict' : /redirect/i.test(message) ? 'invalid_redirect_uri' : 'invalid_client_metadata';
  return new BridgeError(code, description, { publicDescription: `${options.idpName} ${REFUSED[code]}` });
}

/** The BridgeError for a response the adapter did not expect. */
export function errorFromResponse(options: ResponseErrorOptions, response: IdpResponse, action: string): BridgeError {
  const idpMessage = idpMessageOf(options, response);
  const detail = idpMessage ? `: ${redactText(idpMessage).slice(0, 300)}` : '';
  const what = `${options.idpName} answered HTTP ${response.status} to ${action}`;
  if (response.status === 429) {
    return new BridgeError(
      'idp_rate_limited',
      `${options.idpName} is rate-limiting the bridge (${action}); retry after ${response.retryAfterSeconds} s.`,
      {
        retryAfterSeconds: response.retryAfterSeconds,
      },
    );
  }
  if (response.status === 401 || response.status === 403) {
    return new BridgeError(
      'idp_error',
      `${what}${detail}. The bridge's admin credentials were refused or lack a permission: check the adapter's credentials and roles.`,
    );
  }
  if (response.status >= 500) return new BridgeError('idp_unavailable', `${what}${detail}.`);
  return new BridgeError('idp_error', `${what}${detail}.`);
}

/** The IdP's own words in an error answer: the adapter's `describeErrorBody`, else where IdPs usually put them. */
function idpMessageOf(options: ResponseErrorOptions, response: IdpResponse): string | undefined {
  return options.describeErrorBody?.(response.body) ?? genericErrorMessage(response.body);
}

/** The usual places IdPs put their message: OAuth `error_description`, `message`, `errorMessage`, `errorSummary`. */
function genericErrorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['error_description', 'errorSummary', 'errorMessage', 'message', 'error']) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}
