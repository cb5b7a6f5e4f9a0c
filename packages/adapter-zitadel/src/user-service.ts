import type { OperationContext } from '@dcr-bridge/core';
import type { IdpHttpClient, IdpResponse } from '@dcr-bridge/core/idp';

/**
 * ZITADEL's v2 UserService over the Connect protocol, as the ApplicationService (application-service.ts):
 * `POST /zitadel.user.v2.UserService/<Method>` with a protobuf-JSON body.
 */
export const USER_SERVICE = '/zitadel.user.v2.UserService';

export type UserMethod = 'CreateUser' | 'GetUserByID' | 'ListUsers' | 'AddSecret' | 'DeleteUser';

/**
 * Reads, and DeleteUser, may be retried by the HTTP client. CreateUser is not (a repeat answers 409 for the
 * id it chose), nor AddSecret (each call replaces the secret).
 */
const IDEMPOTENT: ReadonlySet<UserMethod> = new Set(['GetUserByID', 'ListUsers', 'DeleteUser']);

export function callUserService<T>(
  http: IdpHttpClient,
  method: UserMethod,
  json: Record<string, unknown>,
  context: Pick<OperationContext, 'signal'>,
): Promise<IdpResponse<T>> {
  return http.post<T>(`${USER_SERVICE}/${method}`, { json, signal: context.signal, idempotent: IDEMPOTENT.has(method) });
}
