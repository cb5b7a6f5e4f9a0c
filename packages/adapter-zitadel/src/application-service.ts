import type { OperationContext } from '@dcr-bridge/core';
import type { IdpHttpClient, IdpResponse } from '@dcr-bridge/core/idp';

/**
 * ZITADEL's v2 ApplicationService over the Connect protocol: every method is `POST /<service>/<Method>`
 * with a JSON body (protobuf JSON), answered 200 with a JSON body or with a Connect error `{code, message}`
 * and the HTTP status of its code (not_found 404, invalid_argument 400, already_exists 409, …).
 */
export const APPLICATION_SERVICE = '/zitadel.application.v2.ApplicationService';

export type ApplicationMethod =
  'CreateApplication' | 'GetApplication' | 'ListApplications' | 'UpdateApplication' | 'DeleteApplication' | 'GenerateClientSecret';

/** Reads, and writes whose repetition leaves ZITADEL as one call would, may be retried by the HTTP client. */
const IDEMPOTENT: ReadonlySet<ApplicationMethod> = new Set([
  'GetApplication',
  'ListApplications',
  'UpdateApplication',
  'DeleteApplication',
]);

export function callApplicationService<T>(
  http: IdpHttpClient,
  method: ApplicationMethod,
  json: Record<string, unknown>,
  context: Pick<OperationContext, 'signal'>,
): Promise<IdpResponse<T>> {
  return http.post<T>(`${APPLICATION_SERVICE}/${method}`, { json, signal: context.signal, idempotent: IDEMPOTENT.has(method) });
}
