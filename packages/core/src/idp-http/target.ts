import { BridgeError } from '../errors.js';

/**
 * Where a request goes: a path appended to the base URL (build it with `path`: it encodes request data and
 * carries the route template the call is measured by; a plain string is measured as `other`), or an
 * absolute URL that the IdP itself handed out (e.g. an RFC 7592 registration_client_uri).
 */
export type IdpTarget = IdpPath | string | URL;

/**
 * A path built by `path`: a String object (it interpolates, concatenates and compares with `==` to a string
 * as its text; `String(p)` is the primitive) that carries the route template it was built from, `route`, by
 * which the IdP call is measured and traced.
 */
// eslint-disable-next-line @typescript-eslint/no-wrapper-object-types -- a primitive string cannot carry its route
export interface IdpPath extends String {
  /** The template's literal parts with `{id}` for each interpolated value: `/admin/realms/{id}/clients/{id}`. */
  readonly route: string;
}

class TemplatedPath extends String implements IdpPath {
  constructor(
    text: string,
    readonly route: string,
  ) {
    super(text);
  }
}

/**
 * Builds a path from a template, encoding every interpolated value as one path segment. A value that
 * would act as `.` or `..` is refused, because URL parsers resolve those even when percent-encoded. The
 * result carries its route template (`route`): the literal parts with `{id}` for each value, so that the
 * call is measured by what the code wrote, never by an id. A path built by `path` may be put in another one
 * as it is (not encoded again), with its route:
 *
 *     path`/admin/realms/${realm}/clients/${id}` // "/admin/realms/acme/clients/a%2Fb", route "/admin/realms/{id}/clients/{id}"
 *     path`${client(id)}/client-secret`          // route "/admin/realms/{id}/clients/{id}/client-secret"
 */
export function path(strings: TemplateStringsArray, ...values: Array<string | number | IdpPath>): IdpPath {
  let text = '';
  let route = '';
  strings.forEach((part, i) => {
    text += part;
    route += part;
    if (i >= values.length) return;
    const value = values[i];
    if (isIdpPath(value)) {
      text += value.toString();
      route += value.route;
    } else {
      text += encodeSegment(String(value));
      route += '{id}';
    }
  });
  return new TemplatedPath(text, route);
}

/** Made by `path` (of this copy of core or another one in the process). */
export function isIdpPath(value: unknown): value is IdpPath {
  return value instanceof String && typeof (value as { route?: unknown }).route === 'string';
}

export function encodeSegment(value: string): string {
  if (value === '' || /^(\.|%2e){1,2}$/i.test(value)) {
    throw new BridgeError('invalid_request', `"${value}" cannot be used as an identifier in an IdP path.`);
  }
  return encodeURIComponent(value);
}
