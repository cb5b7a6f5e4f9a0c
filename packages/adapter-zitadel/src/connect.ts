import type { OperationContext } from '@dcr-bridge/core';
import type { IdpHttpClient, IdpResponse } from '@dcr-bridge/core/idp';

/**
 * ZITADEL's v2 services over the Connect protocol: every method is `POST /<service>/<Method>` with a JSON
 * body (protobuf JSON), answered 200 with a JSON body or with a Connect error `{code, message}` and the HTTP
 * status of its code (not_found 404, invalid_argument 400, already_exists 409, …).
 */
const SERVICES = {
  application: '/zitadel.application.v2.ApplicationService',
  user: '/zitadel.user.v2.UserService',
  instance: '/zitadel.instance.v2.InstanceService',
} as const;

interface Methods {
  application:
    'CreateApplication' | 'GetApplication' | 'ListApplications' | 'UpdateApplication' | 'DeleteApplication' | 'GenerateClientSecret';
  user: 'CreateUser' | 'GetUserByID' | 'ListUsers' | 'AddSecret' | 'DeleteUser' | 'SetUserMetadata';
  instance: 'GetInstance';
}

/**
 * Reads, and writes whose repetition leaves ZITADEL as one call would, may be retried by the HTTP client.
 * Not the creates (a repeat answers 409 for the id they chose) nor the secrets (each call makes a new one).
 */
const IDEMPOTENT: { [S in keyof Methods]: ReadonlySet<Methods[S]> } = {
  application: new Set(['GetApplication', 'ListApplications', 'UpdateApplication', 'DeleteApplication']),
  // SetUserMetadata overwrites the key it is given: a repeat writes the same value again.
  user: new Set(['GetUserByID', 'ListUsers', 'DeleteUser', 'SetUserMetadata']),
  instance: new Set(['GetInstance']),
};

export function callZitadel<S extends keyof Methods, T>(
  http: IdpHttpClient,
  service: S,
  method: Methods[S],
  json: Record<string, unknown>,
  context: Pick<OperationContext, 'signal'>,
): Promise<IdpResponse<T>> {
  // The route is built from constants only: the service and the method name, never a request value.
  const route = `${SERVICES[service]}/${method}`;
  return http.post<T>(route, { json, signal: context.signal, idempotent: IDEMPOTENT[service].has(method), route });
}

export type ApplicationMethod = Methods['application'];
export type UserMethod = Methods['user'];
export type InstanceMethod = Methods['instance'];
