import {
  BridgeError,
  defineDcrAdapter,
  silentLogger,
  type DcrAdapter,
  type IdpPrimitives,
  type Logger,
  lifecycleSettings,
  type CommonAdapterOptions,
  type OperationContext,
} from '@dcr-bridge/core';
import {
  bearerAuthorization,
  createClientCredentialsTokenProvider,
  createIdpHttpClient,
  path,
  staticAuthorization,
  type AuthorizationSource,
  type TokenProvider,
  type IdpResponse,
  type IdpTarget,
} from '@dcr-bridge/core/idp';
import type { CryptoKey } from 'jose';
import { oktaDiagnostics, type OktaServiceApp } from './diagnostics.js';
import { REGISTRATION, clientNameFor, oktaApp, oktaMessage, orgUrl, withoutSecret, type OktaApp, type OktaSecret } from './mapping.js';
import { ADAPTER_ID, IDP_NAME } from './identity.js';

export type OktaAuthentication =
  /** An API token (`Authorization: SSWS …`), as Kong's example bridge uses. */
  | { apiToken: string }
  /** OAuth 2.0 for Okta: a service app that signs its client assertion (private_key_jwt). */
  | { clientId: string; privateKey: string; keyId?: string; scopes?: string[] };

export interface OktaAdapterOptions extends CommonAdapterOptions {
  /** The org: `dev-123.okta.com` or `https://dev-123.okta.com/`. */
  domain: string;
  auth: OktaAuthentication;
  /** The custom authorization server the bridge's clients get tokens from (for `dcr-bridge doctor`); default `default`. */
  authorizationServerId?: string;
}

/** The Okta API scopes the adapter needs, each with what for. */
const REQUIRED_SCOPES = [
  ['okta.clients.manage', 'delete clients'],
  ['okta.clients.read', 'list OAuth clients (readiness)'],
  ['okta.apps.manage', 'create applications, update their redirect URIs, add and retire their client secrets'],
  ['okta.apps.read', "read an application's ownership marker and client secrets, find a create cut short"],
] as const;

export const DEFAULT_SCOPES = REQUIRED_SCOPES.map(([scope]) => scope);

export function createOktaAdapter(options: OktaAdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const org = orgUrl(options.domain);
  const { authorization, serviceApp } = adminAccess(org, options, logger);
  const http = createIdpHttpClient({
    idpName: IDP_NAME,
    baseUrl: org,
    authorization,
    describeErrorBody: oktaMessage,
    // Okta announces when its rate-limit window resets (epoch seconds), not a Retry-After.
    retryAfterSeconds: (response) => {
      const reset = Number(response.headers.get('x-rate-limit-reset'));
      return Number.isFinite(reset) && reset > 0 ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : undefined;
    },
    dispatcher: options.dispatcher,
    logger,
    timeoutMs: options.timeoutMs,
  });
  const oauthClient = (clientId: string) => path`/oauth2/v1/clients/${clientId}`;
  // An OIDC app created without a client_id of its own has its app id as client_id.
  const app = (clientId: string) => path`/api/v1/apps/${clientId}`;
  const isOurs = (found: OktaApp) => found.profile?.dcrBridge?.managed === true;
  const secretsOf = (clientId: string) => path`/api/v1/apps/${clientId}/credentials/secrets`;

  /** Every secret object of the app, INACTIVE ones too; an unknown app is `not_found`. */
  async function listSecrets(clientId: string, context: OperationContext): Promise<OktaSecret[]> {
    const listed = await http.get<OktaSecret[]>(secretsOf(clientId), { signal: context.signal });
    if (listed.status === 404) throw new BridgeError('not_found', `${IDP_NAME} has no client ${clientId}.`);
    if (!listed.ok || !Array.isArray(listed.body)) throw http.errorFromResponse(listed, `listing the client secrets of ${clientId}`);
    return listed.body;
  }

  /** Deletes the app's INACTIVE secrets (they get no token); returns how many. */
  async function deleteInactive(clientId: string, context: OperationContext): Promise<number> {
    const inactive = (await listSecrets(clientId, context)).filter((secret) => secret.status === 'INACTIVE');
    for (const secret of inactive) {
      const deleted = await http.delete(path`/api/v1/apps/${clientId}/credentials/secrets/${secret.id}`, { signal: context.signal });
      if (deleted.status !== 204 && deleted.status !== 404)
        throw http.errorFromResponse(deleted, `deleting an inactive secret of ${clientId}`);
    }
    return inactive.length;
  }

  /** The next page of a list, from Okta's `Link: <…>; rel="next"` header; only on the org itself, which gets the admin credential. */
  function nextPage(link: string | null): URL | undefined {
    const href = link?.match(/<([^>]+)>\s*;\s*rel="next"/)?.[1];
    if (href === undefined) return undefined;
    const next = new URL(href, org);
    if (next.origin !== org)
      throw new BridgeError(
        'idp_error',
        `${IDP_NAME}'s next page of applications is on another origin (${next.origin}); the bridge does not follow it.`,
      );
    return next;
  }

  const primitives: IdpPrimitives<OktaApp> = {
    id: ADAPTER_ID,
    idpName: IDP_NAME,
    marker: 'dcrBridge marker in its application profile',
    /** The client's application, or undefined when it is gone. */
    find: (clientId, context) => http.find<OktaApp>(app(clientId), `reading application ${clientId}`, { signal: context.signal }),
    isOurs,
    registration: REGISTRATION,

    async create(registration, context) {
      // The marker travels in the create itself (the app profile), and Okta answers with the client's
      // credentials: one call, and nothing to clean up if a second step failed.
      const created = await http.post<OktaApp>(path`/api/v1/apps`, { json: oktaApp(registration, context.nonce), signal: context.signal });
      if (!created.ok || typeof created.body?.id !== 'string') throw http.refusal(created, 'the application');
      const answer = created.body;
      await context.created(answer.id, withoutSecret(answer));
      const clientSecret = answer.credentials?.oauthClient?.client_secret;
      if (typeof clientSecret !== 'string')
        throw new BridgeError('idp_error', `${IDP_NAME} created the application without a client secret.`);
      const issuedAt = answer.created === undefined ? undefined : new Date(answer.created);
      return { clientId: answer.id, clientSecret, clientIdIssuedAt: issuedAt && !Number.isNaN(issuedAt.getTime()) ? issuedAt : undefined };
    },

    async findByNonce(nonce, draft, context) {
      // `q` matches the start of an app's label; only an app whose label is exactly the create's, and that
      // carries the marker (the create wrote both at once), is the one.
      const label = clientNameFor(draft.clientName, nonce);
      let target: IdpTarget | undefined = path`/api/v1/apps`;
      let query: Record<string, string | number> | undefined = { q: label, limit: 200 };
      while (target !== undefined) {
        const page: IdpResponse<OktaApp[]> = await http.get<OktaApp[]>(target, { query, signal: context.signal, route: '/api/v1/apps' });
        if (!page.ok || !Array.isArray(page.body)) throw http.errorFromResponse(page, `searching for application ${label}`);
        const found = page.body.find((candidate) => candidate.label === label && isOurs(candidate));
        if (found) return { clientId: found.id, client: found };
        target = nextPage(page.headers.get('link'));
        query = undefined;
      }
      return undefined;
    },

    async remove(clientId, _found, context) {
      // One call, whatever the app's status (the Apps API deletes only deactivated apps: two calls).
      const response = await http.delete(oauthClient(clientId), { signal: context.signal });
      if (response.status === 204 || response.status === 404) return;
      // Okta answers an unknown client with 401 invalid_client on this endpoint; a bad admin credential
      // also answers 401, with an errorCode (E0000011). Only the first means "already gone".
      const body = response.body as { error?: unknown; errorCode?: unknown } | undefined;
      if (response.status === 401 && body?.error === 'invalid_client' && body.errorCode === undefined) return;
      throw http.errorFromResponse(response, `deleting client ${clientId}`);
    },

    // Two-phase rotation with the client secrets of the app (Okta Admin Management API, "Client secret
    // rotation"): at most two secret objects per app, ACTIVE or INACTIVE; only ACTIVE ones get tokens; only
    // an INACTIVE one can be deleted.
    secrets: {
      max: 2,

      async list(clientId, _found, context) {
        return (await listSecrets(clientId, context))
          .filter((secret) => secret.status === 'ACTIVE')
          .map(({ id, created }) => ({ id, createdAt: created === undefined ? undefined : new Date(created) }))
          .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
      },

      async add(clientId, _found, context) {
        let added = await http.post<OktaSecret>(secretsOf(clientId), { json: {}, signal: context.signal });
        // An INACTIVE secret still takes one of the two places: one left by a remove cut short between its two
        // calls (or deactivated in the Admin Console) makes room when it is deleted, and the add is made again.
        if (added.status === 400 && (await deleteInactive(clientId, context)) > 0)
          added = await http.post<OktaSecret>(secretsOf(clientId), { json: {}, signal: context.signal });
        if (added.status === 404) throw new BridgeError('not_found', `${IDP_NAME} has no client ${clientId}.`);
        const { id, client_secret: secret, created } = added.body ?? {};
        if (!added.ok || typeof id !== 'string' || typeof secret !== 'string')
          throw http.errorFromResponse(added, `adding a client secret to ${clientId}`);
        return { id, secret, createdAt: created === undefined ? undefined : new Date(created) };
      },

      async remove(clientId, _found, secretId, context) {
        const secret = path`/api/v1/apps/${clientId}/credentials/secrets/${secretId}`;
        // Deactivating twice leaves the secret as once: safe to repeat.
        const deactivated = await http.post(path`${secret}/lifecycle/deactivate`, { signal: context.signal, idempotent: true });
        // The app or the secret is gone: so is the secret.
        if (deactivated.status === 404) return;
        // A 400 is either the only ACTIVE secret (which Okta keeps) or, perhaps, one already INACTIVE (Okta does
        // not document a second deactivation): the DELETE tells them apart, deleting only an INACTIVE secret.
        if (!deactivated.ok && deactivated.status !== 400)
          throw http.errorFromResponse(deactivated, `deactivating a secret of ${clientId}`);
        const deleted = await http.delete(secret, { signal: context.signal });
        if (deleted.status === 204 || deleted.status === 404) return;
        throw http.errorFromResponse(deactivated.ok ? deleted : deactivated, `retiring a secret of ${clientId}`);
      },
    },

    async replaceRedirectUris(clientId, _remembered, redirectUris, context) {
      // Okta's PUT replaces the whole app: it starts from the app as Okta holds it now (never a remembered
      // copy, which would undo an administrator's changes), and goes back with the new redirect URIs only.
      // Without a client secret: Okta keeps the secret when a PUT has none, so a rotation made meanwhile is
      // never undone; and the token endpoint auth method goes back unchanged (changing it would make Okta
      // issue a new secret).
      const { _links: _readOnlyLinks, _embedded: _readOnlyEmbedded, ...replacement } = withoutSecret(await context.current());
      const settings = { ...replacement.settings, oauthClient: { ...replacement.settings?.oauthClient, redirect_uris: redirectUris } };
      const updated = await http.put(app(clientId), { json: { ...replacement, settings }, signal: context.signal, idempotent: true });
      if (updated.status === 404) throw new BridgeError('not_found', `${IDP_NAME} has no client ${clientId}.`);
      if (!updated.ok) throw http.refusal(updated, `the new redirect URIs of ${clientId}`);
    },

    checkReady: (context) => http.probe(path`/oauth2/v1/clients`, 'listing clients', { query: { limit: 1 }, signal: context.signal }),
    diagnostics: oktaDiagnostics({
      org,
      http,
      authorizationServerId: options.authorizationServerId ?? 'default',
      requiredScopes: REQUIRED_SCOPES,
      serviceApp,
      settingNames: options.settingNames,
    }),
    close: () => http.close(),
  };
  return defineDcrAdapter(primitives, { ...lifecycleSettings(options), logger });
}

type ServiceAppAuthentication = Extract<OktaAuthentication, { privateKey: string }>;

/**
 * Token providers of the service app (OAuth 2.0 for Okta), one per set of scopes, sharing the private key:
 * the adapter's own, and the doctor's one-scope ones.
 */
function serviceAppTokens(
  org: string,
  auth: ServiceAppAuthentication,
  options: OktaAdapterOptions,
  logger: Logger,
): (scopes: string[]) => Promise<TokenProvider> {
  const tokenEndpoint = `${org}/oauth2/v1/token`;
  let key: Promise<CryptoKey> | undefined;
  return async (scopes) => {
    key ??= loadPrivateKey(auth.privateKey);
    return createClientCredentialsTokenProvider({
      issuer: org,
      tokenEndpoint,
      clientId: auth.clientId,
      // Okta wants the token endpoint itself as the assertion's audience.
      auth: { method: 'private_key_jwt', privateKey: await key, keyId: auth.keyId ?? jwkKeyId(auth.privateKey), audience: tokenEndpoint },
      scope: scopes.join(' '),
      idpName: IDP_NAME,
      dispatcher: options.dispatcher,
      logger,
    });
  };
}

/** How the adapter authenticates to Okta's APIs: an API token as it is, or the service app's tokens for its scopes. */
function adminAccess(
  org: string,
  options: OktaAdapterOptions,
  logger: Logger,
): { authorization: AuthorizationSource; serviceApp?: OktaServiceApp } {
  const { auth } = options;
  if ('apiToken' in auth) return { authorization: staticAuthorization(`SSWS ${auth.apiToken}`) };
  const serviceApp = {
    clientId: auth.clientId,
    scopes: auth.scopes ?? DEFAULT_SCOPES,
    tokensFor: serviceAppTokens(org, auth, options, logger),
  };
  return { authorization: bearerFrom(serviceApp.tokensFor([...serviceApp.scopes])), serviceApp };
}

function bearerFrom(provider: Promise<TokenProvider>): AuthorizationSource {
  provider.catch(() => undefined);
  return {
    header: async (signal) => bearerAuthorization(await provider).header(signal),
    rejected: (header) =>
      void provider.then(
        (tokens) => tokens.invalidate(header.slice('Bearer '.length)),
        () => undefined,
      ),
  };
}

async function loadPrivateKey(text: string): Promise<CryptoKey> {
  // jose is loaded only for private-key credentials, not at every start.
  const { importJWK, importPKCS8 } = await import('jose');
  try {
    if (text.trim().startsWith('{'))
      return (await importJWK(JSON.parse(text), (JSON.parse(text) as { alg?: string }).alg ?? 'RS256')) as CryptoKey;
    return await importPKCS8(text.replace(/\\n/g, '\n'), 'RS256');
  } catch {
    throw new BridgeError('internal_error', 'auth.privateKey is neither a PKCS#8 PEM private key nor a private JWK.');
  }
}

function jwkKeyId(text: string): string | undefined {
  if (!text.trim().startsWith('{')) return undefined;
  const kid = (JSON.parse(text) as { kid?: unknown }).kid;
  return typeof kid === 'string' ? kid : undefined;
}
