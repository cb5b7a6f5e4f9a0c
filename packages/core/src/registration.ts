import type { ClientRegistration, OAuthGrantType, OperationContext, RegistrationRules } from './contract.js';
import { BridgeError } from './errors.js';

/**
 * Core's check of a registration against what the adapter declared its IdP accepts (`RegistrationRules` in
 * contract.ts), with the one message per rule broken.
 */
/** `"a", "b"`: values named in a message, quoted. */
const quoted = (values: readonly string[]) => values.map((value) => `"${value}"`).join(', ');
/** `grant type` or `grant types`. */
const noun = (word: string, count: number) => `${word}${count > 1 ? 's' : ''}`;

/** The `invalid_scope` refusal for scopes the IdP does not have, e.g. `Keycloak has no scopes "a", "b" (…).` */
function unknownScopes(idpName: string, unknown: readonly string[], where?: string): BridgeError {
  return new BridgeError(
    'invalid_scope',
    `${idpName} has no ${noun('scope', unknown.length)} ${quoted(unknown)}${where ? ` (${where})` : ''}.`,
  );
}

/**
 * Checks `registration` against the declared rules and answers the registration's scopes as the create needs
 * them (the `looked-up` ones resolved, the others as named). Throws the refusal for the first rule broken.
 */
export async function checkRegistration<Scope>(
  rules: RegistrationRules<Scope>,
  registration: ClientRegistration,
  context: OperationContext,
): Promise<Scope[]> {
  checkAuthMethod(rules, registration);
  checkGrantTypes(rules, registration.grantTypes);
  return checkScopes(rules, registration.scopes, context);
}

function checkAuthMethod(rules: RegistrationRules<unknown>, registration: ClientRegistration): void {
  const method = registration.tokenEndpointAuthMethod;
  if (rules.authMethods === 'checked-by-idp' || rules.authMethods.includes(method)) return;
  throw new BridgeError(
    'invalid_client_metadata',
    `token_endpoint_auth_method "${method}" is not one ${rules.clients} support (${rules.authMethods.join(', ')}).`,
  );
}

function checkGrantTypes(rules: RegistrationRules<unknown>, grants: readonly OAuthGrantType[]): void {
  const supported = rules.grantTypes;
  const unsupported = supported === 'checked-by-idp' ? [] : grants.filter((grant) => !supported.includes(grant));
  if (unsupported.length > 0)
    throw new BridgeError(
      'invalid_client_metadata',
      `${rules.clients} cannot use the ${noun('grant type', unsupported.length)} ${unsupported.join(', ')}.`,
    );
  for (const grant of grants) {
    const required = rules.grantRequires?.[grant];
    if (required !== undefined && !grants.includes(required))
      throw new BridgeError('invalid_client_metadata', `${rules.idp} allows ${grant} only together with ${required}.`);
    const others = grants.filter((other) => other !== grant);
    if (rules.grantAlone?.includes(grant) && others.length > 0)
      throw new BridgeError(
        'invalid_client_metadata',
        `${rules.idp} gives ${grant} to a client only on its own, never both it and ${others.join(', ')} to one client: ` +
          `register one application for ${grant} and another for the other grant types.`,
      );
  }
}

async function checkScopes<Scope>(
  { idp, scopes: rules }: RegistrationRules<Scope>,
  scopes: readonly string[],
  context: OperationContext,
): Promise<Scope[]> {
  switch (rules.kind) {
    case 'any':
    case 'checked-by-idp':
      return scopes as unknown as Scope[];
    case 'listed': {
      const unknown = scopes.filter((scope) => !rules.known.includes(scope));
      if (unknown.length > 0) throw unknownScopes(idp, unknown, `it serves ${rules.known.join(', ')}`);
      return scopes as unknown as Scope[];
    }
    case 'looked-up': {
      if (scopes.length === 0) return [];
      const found = await rules.find(scopes, context);
      const unknown = scopes.filter((scope) => !found.has(scope));
      if (unknown.length > 0) throw unknownScopes(idp, unknown, rules.where);
      return scopes.map((scope) => found.get(scope) as Scope);
    }
  }
}
