import { describe, expect, it } from 'vitest';
import {
  JOURNAL_PREFIX,
  createJsonStore,
  createMemoryDriver,
  defineDcrAdapter,
  isBridgeError,
  type IdpPrimitives,
  type OperationContext,
  type RegistrationRules,
} from '../src/index.js';
import { createJsonLogger, parseRegistration } from '../src/http.js';
import { konnectBody } from './fixtures.js';

function context(): OperationContext {
  return {
    signal: new AbortController().signal,
    deadline: new AbortController().signal,
    answered: Promise.resolve(true),
    logger: createJsonLogger({ write: () => undefined }),
    requestId: 'r',
  };
}

const registration = (overrides: Record<string, unknown> = {}) => parseRegistration(konnectBody(overrides));

/** An IdP that records every call, with the declared rules given. */
function recordingIdp<Scope>(rules: RegistrationRules<Scope>) {
  const calls: string[] = [];
  const handed: Scope[][] = [];
  const primitives: IdpPrimitives<{ id: string }, Scope> = {
    id: 'memory',
    idpName: 'Memory IdP',
    marker: 'nothing',
    find: async () => undefined,
    isOurs: () => true,
    registration: rules,
    async create(_registration, createContext) {
      calls.push('create');
      handed.push(createContext.scopes);
      await createContext.created('client-1');
      return { clientId: 'client-1', clientSecret: 'secret' };
    },
    remove: async () => undefined,
    checkReady: async () => ({ ready: true }),
  };
  return { primitives, calls, handed };
}

const rules: RegistrationRules = {
  idp: 'Memory IdP',
  clients: 'Memory clients',
  authMethods: ['client_secret_basic', 'client_secret_post'],
  grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
  grantRequires: { refresh_token: 'authorization_code' },
  scopes: { kind: 'listed', known: ['read', 'write'] },
};

/** The refusal a create with these fields gets, or undefined when it is created. */
async function refusal(declared: RegistrationRules<unknown>, fields: Record<string, unknown>) {
  const idp = recordingIdp(declared);
  const journal = createJsonStore(createMemoryDriver());
  const adapter = defineDcrAdapter(idp.primitives, { journal });
  const error = await adapter.createClient(registration(fields), context()).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  await adapter.drained?.();
  if (error !== undefined) {
    // Refused before anything: the IdP's create was never called, and nothing was journaled.
    expect(idp.calls).toEqual([]);
    expect(await journal.list(JOURNAL_PREFIX)).toEqual([]);
  }
  return isBridgeError(error) ? { error: error.code, message: error.message } : error;
}

describe('declared registration rules: core refuses what the IdP cannot do, before anything is created', () => {
  it.each([
    [
      { token_endpoint_auth_method: 'private_key_jwt' },
      'invalid_client_metadata',
      'token_endpoint_auth_method "private_key_jwt" is not one Memory clients support (client_secret_basic, client_secret_post).',
    ],
    [{ grant_types: ['password'] }, 'invalid_client_metadata', 'Memory clients cannot use the grant type password.'],
    [{ grant_types: ['password', 'implicit'] }, 'invalid_client_metadata', 'Memory clients cannot use the grant types password, implicit.'],
    [
      { grant_types: ['client_credentials', 'refresh_token'] },
      'invalid_client_metadata',
      'Memory IdP allows refresh_token only together with authorization_code.',
    ],
    [{ scopes: ['read', 'admin'] }, 'invalid_scope', 'Memory IdP has no scope "admin" (it serves read, write).'],
    [{ scopes: ['admin', 'root'] }, 'invalid_scope', 'Memory IdP has no scopes "admin", "root" (it serves read, write).'],
  ])('refuses %j with one message', async (fields, code, message) => {
    expect(await refusal(rules, fields)).toEqual({ error: code, message });
  });

  it('creates what the rules allow', async () => {
    expect(await refusal(rules, { grant_types: ['authorization_code', 'refresh_token'], scopes: ['write'] })).toBeUndefined();
  });

  it('refuses a grant the IdP gives a client only on its own, when it comes with another', async () => {
    const alone: RegistrationRules = { ...rules, grantRequires: undefined, grantAlone: ['client_credentials'] };
    expect(await refusal(alone, { grant_types: ['client_credentials', 'authorization_code'] })).toEqual({
      error: 'invalid_client_metadata',
      message:
        'Memory IdP gives client_credentials to a client only on its own, never both it and authorization_code to one client: ' +
        'register one application for client_credentials and another for the other grant types.',
    });
    expect(await refusal(alone, { grant_types: ['client_credentials'] })).toBeUndefined();
    expect(await refusal(alone, { grant_types: ['authorization_code', 'refresh_token'] })).toBeUndefined();
  });

  it('leaves auth methods, grant types and scopes to the IdP where the adapter declares so', async () => {
    const open: RegistrationRules = {
      idp: 'Memory IdP',
      clients: 'Memory clients',
      authMethods: 'checked-by-idp',
      grantTypes: 'checked-by-idp',
      scopes: { kind: 'any' },
    };
    expect(
      await refusal(open, { token_endpoint_auth_method: 'private_key_jwt', grant_types: ['password'], scopes: ['anything'] }),
    ).toBeUndefined();
  });

  it('looks a scope list up at the IdP, refuses the unknown names, and hands the create what it found, in order', async () => {
    const lookups: string[][] = [];
    const idp = recordingIdp<number>({
      ...rules,
      scopes: {
        kind: 'looked-up',
        where: 'Scope Management',
        find: async (names) => {
          lookups.push([...names]);
          return new Map([
            ['read', 1],
            ['write', 2],
          ]);
        },
      },
    });
    const adapter = defineDcrAdapter(idp.primitives);
    await expect(adapter.createClient(registration({ scopes: ['read', 'nope'] }), context())).rejects.toMatchObject({
      code: 'invalid_scope',
      message: 'Memory IdP has no scope "nope" (Scope Management).',
    });
    expect(idp.calls).toEqual([]);
    await adapter.createClient(registration({ scopes: ['write', 'read'] }), context());
    expect(idp.handed).toEqual([[2, 1]]);
    // No scopes asked for: no lookup.
    await adapter.createClient(registration({ scopes: [] }), context());
    expect(lookups).toEqual([
      ['read', 'nope'],
      ['write', 'read'],
    ]);
    await adapter.drained?.();
  });

  it('publishes the declaration on the adapter, for the conformance suite', () => {
    expect(defineDcrAdapter(recordingIdp(rules).primitives).registration).toBe(rules);
  });
});
