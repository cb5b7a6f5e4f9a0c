import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  clientCredentials,
  createApiDescription,
  createFakeIdpKit,
  listenOnLoopback,
  type ApiDescription,
  type FakeIdpKit,
  type OpenApiDocument,
} from '@dcr-bridge/conformance';

/**
 * The API generations the fake models (README, "Supported versions"):
 * - `2026.2`: authentik 2024.12 – 2026.2; a provider has no `grant_types`, and every grant is open to it. Traffic is
 *   checked against `test/vendor/authentik-2026.2.openapi.json`.
 * - `2026.5`: authentik 2026.5 and later; a provider's `grant_types` lists the grants its token endpoint accepts,
 *   empty when a create leaves it out (the API default since migration 0033: `default=list`). Traffic is checked
 *   against `test/vendor/authentik-2026.5.openapi.json`.
 */
export type AuthentikGeneration = '2026.2' | '2026.5';
export const GENERATIONS: AuthentikGeneration[] = ['2026.2', '2026.5'];

export interface FakeAuthentikOptions {
  /** Default `2026.5`. */
  generation?: AuthentikGeneration;
  /** `version_current` of `GET /api/v3/admin/version/`; default `2026.2.3` or `2026.5.6` by generation. */
  version?: string;
  /** The API token's account may read but not write (no add, change or delete permission): every write answers 403. */
  readOnly?: boolean;
}

const DEFAULT_VERSION: Record<AuthentikGeneration, string> = { '2026.2': '2026.2.3', '2026.5': '2026.5.6' };
/** `GrantTypesEnum` of authentik 2026.5 (`test/vendor/authentik-2026.5.openapi.json`). */
const GRANT_TYPES = [
  'authorization_code',
  'implicit',
  'hybrid',
  'refresh_token',
  'client_credentials',
  'password',
  'urn:ietf:params:oauth:grant-type:device_code',
];

/** The pinned cut-down of authentik's schema.yml for a generation (see test/vendor/README.md). */
export function authentikApiDescription(generation: AuthentikGeneration): ApiDescription {
  const document = JSON.parse(
    readFileSync(new URL(`./vendor/authentik-${generation}.openapi.json`, import.meta.url), 'utf8'),
  ) as OpenApiDocument & { info: { version: string } };
  return createApiDescription({ name: `authentik ${document.info.version} (schema.yml)`, document, basePath: '/api/v3' });
}

/**
 * A fake of authentik's API (`/api/v3`, 2024.12 and later, in two generations: see `AuthentikGeneration`) and token endpoint, for what the adapter calls.
 * Written from authentik's API reference (https://docs.goauthentik.io/developer-docs/api/reference/) and its
 * source (goauthentik/authentik); the README's Limits say which of these no live server has confirmed.
 * - Authentication is `Authorization: Bearer <API token>`. authentik's `TokenAuthentication` declares no
 *   `WWW-Authenticate` challenge, so Django REST framework answers a wrong token with **403**
 *   `{"detail": "Token invalid/expired"}` and a missing one with 403 too, never 401
 *   (`authentik/api/authentication.py`).
 * - A list without the global view permission (and no object permission) answers 403
 *   `{"detail": "You do not have permission to perform this action."}` (`authentik/rbac/filters.py`).
 * - Lists are paginated: `{"pagination": {next, previous, count, current, total_pages, start_index,
 *   end_index}, "results": […]}`, `next` 0 on the last page, `?page=` and `?page_size=`
 *   (`authentik/api/pagination.py`); a page past the end answers 404 `{"detail": "Invalid page."}`.
 * - OAuth2 providers (`/providers/oauth2/`) have integer `pk`s from one sequence shared by every provider
 *   type; `client_id` is an exact list filter; `client_id` and `name` are unique; `redirect_uris` is a list
 *   of `{matching_mode: "strict" | "regex", url}` (2024.8 and later); `authorization_flow` and
 *   `invalidation_flow` are required flow UUIDs; `client_secret` (a string of at most 255 characters) is
 *   generated when not given, returned by every read (list and `GET /providers/oauth2/{pk}/`) and set by a
 *   write that gives it; PATCH writes only the fields sent, PUT needs the required ones (schema.yml of 2025.4
 *   and 2026.2: `OAuth2Provider`, `PatchedOAuth2ProviderRequest`). A refused write answers 400 with one list
 *   of messages per field.
 * - Applications (`/core/applications/{slug}/`) are addressed by slug (letters, digits, `-`, `_`, at most
 *   50); `slug` and `provider` are unique; deleting a provider leaves its application, with `provider` null.
 * - Scope mappings are listed at `/propertymappings/provider/scope/` (2024.8 and later).
 * - An unknown id answers 404 `{"detail": "Not found."}`.
 * - `POST /application/o/token/` serves client_credentials when the client_secret equals the provider's (its one,
 *   current secret: a replaced one is refused at once) and
 *   an application exposes the provider; otherwise 400 `{"error": "invalid_grant"}` (400 `invalid_client`
 *   for an unknown client id) (`authentik/providers/oauth2/views/token.py`).
 * authentik itself does not rate-limit its API; the 429s the tests inject are those of a reverse proxy in front of it.
 */
export interface FakeProvider {
  pk: number;
  name: string;
  authorization_flow: string;
  invalidation_flow: string;
  client_type: 'confidential' | 'public';
  client_id: string;
  client_secret: string;
  redirect_uris: Array<{ matching_mode: 'strict' | 'regex'; url: string }>;
  property_mappings: string[];
  /** How long access tokens live (`minutes=5`); set by administrators, never by the bridge. */
  access_token_validity?: string;
  /** Generation 2026.5 only. */
  grant_types?: string[];
}

export interface FakeApplication {
  pk: string;
  name: string;
  slug: string;
  provider: number | null;
  meta_description: string;
  meta_publisher: string;
}

export interface FakeAuthentik {
  generation: AuthentikGeneration;
  /** What the fake answers as `version_current`. */
  version: string;
  /** The pinned vendor description every request and answer of `/api/v3` is checked against; `api.expectNoProblems()` at the end of a test file. */
  api: ApiDescription;
  /**
   * authentik upgraded in place: the version and the API change, and (as migration 0032_oauth2provider_grant_types
   * did) every existing provider gets every grant type. `api` keeps the problems of both documents.
   */
  upgrade(to: AuthentikGeneration): void;
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  url: string;
  apiToken: string;
  /** The UUIDs of the flows a provider may name. */
  flows: { authorization: string; invalidation: string };
  /** `METHOD /path?query` of every request, in arrival order. */
  requests: string[];
  /** The next request matching method and path answers this status and body, once. */
  failNext(method: string, pathPattern: RegExp, status: number, body?: unknown, headers?: Record<string, string>): void;
  /** The provider whose OAuth client id this is. */
  client(clientId: string): FakeProvider | undefined;
  application(slug: string): FakeApplication | undefined;
  /** OAuth2 providers. */
  clientCount(): number;
  /** Changes fields of the provider whose OAuth client id this is, as an administrator would in the admin interface. */
  editClient(clientId: string, fields: Partial<FakeProvider>): void;
  applicationCount(): number;
  /** Applications that expose no provider: what a provider's deletion leaves behind. */
  strayApplicationCount(): number;
  /** Adds scope mappings, as an administrator would (e.g. to push the list past one page). */
  addScopeMappings(scopeNames: string[]): void;
  /** The pk of the scope mapping for this scope name. */
  scopeMappingPk(scopeName: string): string | undefined;
  /** Creates a provider and its application as an administrator would in the admin interface; returns the client id. */
  createForeignClient(name?: string): string;
  /** client_credentials at the token endpoint: whether a token is issued. */
  clientCredentials(clientId: string, clientSecret: string): Promise<boolean>;
  close(): Promise<void>;
}

// The page size when a request names none (a setting of authentik's); the adapter names one wherever it may read more than one item.
const DEFAULT_PAGE_SIZE = 20;
const SLUG = /^[-a-zA-Z0-9_]+$/;

export async function startFakeAuthentik(options: FakeAuthentikOptions = {}): Promise<FakeAuthentik> {
  let generation = options.generation ?? '2026.5';
  let version = options.version ?? DEFAULT_VERSION[generation];
  let listsGrants = generation === '2026.5';
  const api = authentikApiDescription(generation);
  const descriptions = { [generation]: api } as Partial<Record<AuthentikGeneration, ApiDescription>>;
  const apiToken = randomBytes(30).toString('hex');
  const flows = { authorization: randomUUID(), invalidation: randomUUID() };
  const providers = new Map<number, FakeProvider>();
  const applications = new Map<string, FakeApplication>();
  const scopeMappings: Array<
    { pk: string; name: string; scope_name: string; managed: string | null; expression: string } & Record<string, unknown>
  > = [];
  let nextPk = 1;
  const kit = createFakeIdpKit();
  const addScopeMappings = (names: string[]) =>
    names.forEach((scope) =>
      scopeMappings.push({
        pk: randomUUID(),
        name: `Scope ${scope}`,
        scope_name: scope,
        managed: null,
        expression: 'return {}',
        component: 'ak-property-mapping-provider-scope-form',
        verbose_name: 'Scope Mapping',
        verbose_name_plural: 'Scope Mappings',
        meta_model_name: 'authentik_providers_oauth2.scopemapping',
      }),
    );
  addScopeMappings(['openid', 'email', 'profile', 'read:orders', 'write:orders']);

  const providerByClientId = (clientId: string) => [...providers.values()].find((provider) => provider.client_id === clientId);
  const applicationOf = (provider: FakeProvider) => [...applications.values()].find((app) => app.provider === provider.pk);
  const serialize = (provider: FakeProvider) => ({
    ...provider,
    component: 'ak-provider-oauth2-form',
    assigned_application_slug: applicationOf(provider)?.slug ?? '',
    assigned_application_name: applicationOf(provider)?.name ?? '',
    assigned_backchannel_application_slug: '',
    assigned_backchannel_application_name: '',
    verbose_name: 'OAuth2/OpenID Provider',
    verbose_name_plural: 'OAuth2/OpenID Providers',
    meta_model_name: 'authentik_providers_oauth2.oauth2provider',
  });

  /** An application as authentik answers it (`Application` of schema.yml: its provider as a `Provider`, the computed fields). */
  const serializeApplication = (application: FakeApplication) => {
    const provider = application.provider === null ? undefined : providers.get(application.provider);
    const providerObj = provider && {
      pk: provider.pk,
      name: provider.name,
      authorization_flow: provider.authorization_flow,
      invalidation_flow: provider.invalidation_flow,
      property_mappings: provider.property_mappings,
      ...Object.fromEntries(
        Object.entries(serialize(provider)).filter(
          ([field]) =>
            ['component', 'verbose_name', 'verbose_name_plural', 'meta_model_name'].includes(field) || field.startsWith('assigned_'),
        ),
      ),
    };
    return {
      ...application,
      provider_obj: providerObj ?? null,
      backchannel_providers: [],
      backchannel_providers_obj: [],
      launch_url: provider?.redirect_uris[0] ? new URL(provider.redirect_uris[0].url).origin : null,
      meta_icon_url: null,
      meta_icon_themed_urls: null,
    };
  };

  const app = express();
  app.use(kit.middleware);

  app.post('/application/o/token/', express.urlencoded({ extended: false }), (req, res) => {
    const form = req.body as Record<string, string>;
    const { clientId, clientSecret } = clientCredentials(req.get('authorization'), form);
    if (form.grant_type !== 'client_credentials') return res.status(400).json({ error: 'unsupported_grant_type' });
    const provider = providerByClientId(clientId);
    if (!provider) return res.status(400).json({ error: 'invalid_client' });
    if (provider.client_secret !== clientSecret || !applicationOf(provider)) return res.status(400).json({ error: 'invalid_grant' });
    // 2026.5 and later: a grant the provider does not list is refused ("Invalid grant_type for provider").
    if (provider.grant_types && !provider.grant_types.includes(form.grant_type)) return res.status(400).json({ error: 'invalid_grant' });
    res.json({ access_token: randomBytes(24).toString('base64url'), token_type: 'Bearer', expires_in: 300, scope: '' });
  });

  const requireToken = (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    if (header === undefined) return void res.status(403).json({ detail: 'Authentication credentials were not provided.' });
    if (header !== `Bearer ${apiToken}`) return void res.status(403).json({ detail: 'Token invalid/expired' });
    next();
  };
  let checking = api;
  // The problems of the document checked now, in `api.problems` (after an upgrade, the newer document's too).
  const record = (found: string[]) => checking !== api && api.problems.push(...found);
  const router = express.Router();
  app.use('/api/v3', requireToken, express.json(), checkedByDescription, router);

  /**
   * The answer as the check reads it: `null` of a field schema.yml declares `allOf: [$ref], nullable: true` (an
   * application's `provider_obj` and `meta_icon_themed_urls`) is read as `{}`, because createApiDescription honours
   * `nullable` only beside `type` or a bare `$ref` (test/vendor/README.md).
   */
  const NULLABLE_ALL_OF = ['provider_obj', 'meta_icon_themed_urls'];
  const checkable = (body: unknown): unknown => {
    if (Array.isArray(body)) return body.map(checkable);
    if (typeof body !== 'object' || body === null) return body;
    return Object.fromEntries(
      Object.entries(body).map(([field, value]) => [field, value === null && NULLABLE_ALL_OF.includes(field) ? {} : checkable(value)]),
    );
  };

  /**
   * Every request that reaches the fake's handlers, and every answer they give, against the pinned vendor description.
   * Two exceptions (test/vendor/README.md): a 404 (`{"detail": …}`, Django's Http404, which schema.yml lists for no
   * operation), and the doctor's empty create (`{}` on a list route), which is meant to be refused.
   */
  function checkedByDescription(req: Request, res: Response, next: NextFunction) {
    const path = new URL(req.originalUrl, 'http://fake').pathname;
    const body = req.body as unknown;
    const probe = req.method === 'POST' && typeof body === 'object' && body !== null && Object.keys(body).length === 0;
    if (!probe) record(checking.checkRequest(req.method, path, body));
    let sent: unknown;
    const json = res.json.bind(res);
    res.json = (answer: unknown) => ((sent = answer), json(answer));
    res.once('finish', () => {
      if (res.statusCode !== 404 && !(probe && res.statusCode === 400))
        record(checking.checkResponse(req.method, path, res.statusCode, checkable(sent)));
    });
    if (options.readOnly && req.method !== 'GET')
      return void res.status(403).json({ detail: 'You do not have permission to perform this action.' });
    next();
  }

  const notFound = (res: Response) => void res.status(404).json({ detail: 'Not found.' });
  function paginate<Item>(req: Request, res: Response, items: Item[]): void {
    const pageSize = Number(req.query.page_size ?? DEFAULT_PAGE_SIZE);
    const page = Number(req.query.page ?? 1);
    const totalPages = Math.max(1, Math.ceil(items.length / pageSize));
    if (!Number.isInteger(page) || page < 1 || page > totalPages) return void res.status(404).json({ detail: 'Invalid page.' });
    const start = (page - 1) * pageSize;
    const results = items.slice(start, start + pageSize);
    res.json({
      pagination: {
        next: page < totalPages ? page + 1 : 0,
        previous: page > 1 ? page - 1 : 0,
        count: items.length,
        current: page,
        total_pages: totalPages,
        start_index: results.length > 0 ? start + 1 : 0,
        end_index: start + results.length,
      },
      results,
      autocomplete: {},
    });
  }

  /** Django REST framework's field checks for a provider write; the errors, one list per field. */
  function providerErrors(body: Record<string, unknown>, current: FakeProvider | undefined): Record<string, unknown> {
    const errors: Record<string, unknown> = {};
    const required = (field: string) => !current && body[field] === undefined && (errors[field] = ['This field is required.']);
    ['name', 'authorization_flow', 'invalidation_flow', 'redirect_uris'].forEach(required);
    for (const field of ['authorization_flow', 'invalidation_flow']) {
      const value = body[field];
      if (value !== undefined && value !== flows.authorization && value !== flows.invalidation)
        errors[field] = [`Invalid pk "${String(value)}" - object does not exist.`];
    }
    if (body.name !== undefined) {
      if (typeof body.name !== 'string' || body.name === '') errors.name = ['This field may not be blank.'];
      else if ([...providers.values()].some((other) => other !== current && other.name === body.name))
        errors.name = ['Provider with this name already exists.'];
    }
    // `client_secret`: a string of at most 255 characters (schema.yml, OAuth2ProviderRequest / PatchedOAuth2ProviderRequest).
    if (body.client_secret !== undefined) {
      if (typeof body.client_secret !== 'string') errors.client_secret = ['Not a valid string.'];
      else if (body.client_secret.length > 255) errors.client_secret = ['Ensure this field has no more than 255 characters.'];
    }
    if (body.client_id !== undefined && [...providers.values()].some((other) => other !== current && other.client_id === body.client_id))
      errors.client_id = ['OAuth2/OpenID Provider with this Client ID already exists.'];
    if (body.redirect_uris !== undefined) {
      if (!Array.isArray(body.redirect_uris))
        errors.redirect_uris = { non_field_errors: [`Expected a list of items but got type "${typeof body.redirect_uris}".`] };
      else {
        const entries = (body.redirect_uris as Array<Record<string, unknown>>).map((entry) => {
          const entryErrors: Record<string, string[]> = {};
          if (!['strict', 'regex'].includes(String(entry?.matching_mode)))
            entryErrors.matching_mode = [`"${String(entry?.matching_mode)}" is not a valid choice.`];
          if (typeof entry?.url !== 'string' || entry.url === '') entryErrors.url = ['This field is required.'];
          return entryErrors;
        });
        if (entries.some((entry) => Object.keys(entry).length > 0)) errors.redirect_uris = entries;
      }
    }
    // 2026.5: a list of GrantTypesEnum values. Before, DRF ignores the field like any other it does not know.
    if (listsGrants && body.grant_types !== undefined) {
      if (!Array.isArray(body.grant_types)) errors.grant_types = [`Expected a list of items but got type "${typeof body.grant_types}".`];
      else {
        const invalid = (body.grant_types as unknown[]).find((grant) => !GRANT_TYPES.includes(String(grant)));
        if (invalid !== undefined) errors.grant_types = { 0: [`"${String(invalid)}" is not a valid choice.`] };
      }
    }
    const unknownMappings = ((body.property_mappings as string[] | undefined) ?? []).filter(
      (pk) => !scopeMappings.some((m) => m.pk === pk),
    );
    if (unknownMappings.length > 0) errors.property_mappings = [`Invalid pk "${unknownMappings[0]}" - object does not exist.`];
    return errors;
  }

  /** The fields a write sets (Django REST framework ignores those its serializer does not know, e.g. grant_types before 2026.5). */
  const WRITABLE = [
    'name',
    'authorization_flow',
    'invalidation_flow',
    'client_type',
    'client_id',
    'client_secret',
    'redirect_uris',
    'property_mappings',
    'access_token_validity',
  ];
  const writable = (body: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(body).filter(([field]) => WRITABLE.includes(field) || (listsGrants && field === 'grant_types')),
    ) as Partial<FakeProvider>;

  const providerFor = (req: Request, res: Response): FakeProvider | undefined => {
    const provider = providers.get(Number(req.params.pk));
    if (!provider) notFound(res);
    return provider;
  };

  // `GET /api/v3/admin/version/` (`authentik/admin/api/version.py`): any authenticated token may read it.
  router.get('/admin/version/', (_req, res) =>
    res.json({
      version_current: version,
      version_latest: version,
      version_latest_valid: true,
      build_hash: '',
      outdated: false,
      outpost_outdated: false,
    }),
  );
  router.get('/propertymappings/provider/scope/', (req, res) => paginate(req, res, scopeMappings));
  router.get('/providers/oauth2/', (req, res) => {
    const { client_id: clientId, name } = req.query;
    const matching = [...providers.values()].filter(
      (provider) => (clientId === undefined || provider.client_id === clientId) && (name === undefined || provider.name === name),
    );
    paginate(req, res, matching.sort((a, b) => a.name.localeCompare(b.name)).map(serialize));
  });
  router.post('/providers/oauth2/', (req, res) => {
    const body = req.body as Record<string, unknown>;
    const errors = providerErrors(body, undefined);
    if (Object.keys(errors).length > 0) return res.status(400).json(errors);
    const provider: FakeProvider = {
      pk: nextPk++,
      name: body.name as string,
      authorization_flow: body.authorization_flow as string,
      invalidation_flow: body.invalidation_flow as string,
      client_type: body.client_type === 'public' ? 'public' : 'confidential',
      client_id: (body.client_id as string | undefined) ?? randomBytes(20).toString('hex'),
      client_secret: (body.client_secret as string | undefined) ?? randomBytes(64).toString('hex'),
      redirect_uris: (body.redirect_uris as FakeProvider['redirect_uris'] | undefined) ?? [],
      property_mappings: (body.property_mappings as string[] | undefined) ?? [],
      // 2026.5: `default=list`: a provider created through the API without grant_types accepts no grant.
      ...(listsGrants && { grant_types: (body.grant_types as string[] | undefined) ?? [] }),
    };
    providers.set(provider.pk, provider);
    res.status(201).json(serialize(provider));
  });
  router.get('/providers/oauth2/:pk/', (req, res) => {
    const provider = providerFor(req, res);
    if (provider) res.json(serialize(provider));
  });
  router.patch('/providers/oauth2/:pk/', (req, res) => {
    const provider = providerFor(req, res);
    if (!provider) return;
    const body = req.body as Partial<FakeProvider>;
    const errors = providerErrors(body as Record<string, unknown>, provider);
    if (Object.keys(errors).length > 0) return res.status(400).json(errors);
    Object.assign(provider, writable(body as Record<string, unknown>), { pk: provider.pk });
    res.json(serialize(provider));
  });
  // PUT (providers_oauth2_update): the whole provider; the required fields as for a create, the others keep their value
  // when left out (Django REST framework's update writes only the fields given, but requires the required ones).
  router.put('/providers/oauth2/:pk/', (req, res) => {
    const provider = providerFor(req, res);
    if (!provider) return;
    const body = req.body as Record<string, unknown>;
    const errors = providerErrors(body, provider);
    for (const field of ['name', 'authorization_flow', 'invalidation_flow', 'redirect_uris'])
      if (body[field] === undefined) errors[field] = ['This field is required.'];
    if (Object.keys(errors).length > 0) return res.status(400).json(errors);
    Object.assign(provider, writable(body as Record<string, unknown>), { pk: provider.pk });
    res.json(serialize(provider));
  });
  router.delete('/providers/oauth2/:pk/', (req, res) => {
    const provider = providerFor(req, res);
    if (!provider) return;
    providers.delete(provider.pk);
    const application = applicationOf(provider);
    if (application) application.provider = null;
    res.status(204).end();
  });

  router.post('/core/applications/', (req, res) => {
    const body = req.body as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    if (typeof body.name !== 'string' || body.name === '') errors.name = ['This field is required.'];
    const slug = body.slug;
    if (typeof slug !== 'string' || slug === '') errors.slug = ['This field is required.'];
    else if (!SLUG.test(slug)) errors.slug = ['Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.'];
    else if (slug.length > 50) errors.slug = ['Ensure this field has no more than 50 characters.'];
    else if (applications.has(slug)) errors.slug = ['Application with this slug already exists.'];
    const provider = body.provider as number | null | undefined;
    if (provider !== undefined && provider !== null) {
      if (!providers.has(provider)) errors.provider = [`Invalid pk "${provider}" - object does not exist.`];
      else if ([...applications.values()].some((other) => other.provider === provider))
        errors.provider = ['Application with this provider already exists.'];
    }
    if (Object.keys(errors).length > 0) return res.status(400).json(errors);
    const application: FakeApplication = {
      pk: randomUUID(),
      name: body.name as string,
      slug: slug as string,
      provider: provider ?? null,
      meta_description: (body.meta_description as string | undefined) ?? '',
      meta_publisher: (body.meta_publisher as string | undefined) ?? '',
    };
    applications.set(application.slug, application);
    res.status(201).json(serializeApplication(application));
  });
  router.get('/core/applications/', (req, res) => paginate(req, res, [...applications.values()].map(serializeApplication)));
  router.delete('/core/applications/:slug/', (req, res) => {
    if (!applications.delete(String(req.params.slug))) return notFound(res);
    res.status(204).end();
  });

  const server = await listenOnLoopback(app);
  return {
    get generation() {
      return generation;
    },
    get version() {
      return version;
    },
    api,
    upgrade(to) {
      generation = to;
      version = DEFAULT_VERSION[to];
      listsGrants = to === '2026.5';
      if (listsGrants) for (const provider of providers.values()) provider.grant_types ??= [...GRANT_TYPES];
      checking = descriptions[to] ??= authentikApiDescription(to);
    },
    url: server.origin,
    apiToken,
    flows,
    requests: kit.requests,
    faults: kit,
    failNext: kit.failNext,
    client: (clientId) => providerByClientId(clientId),
    application: (slug) => applications.get(slug),
    clientCount: () => providers.size,
    editClient(clientId, fields) {
      const provider = providerByClientId(clientId);
      if (!provider) throw new Error(`no provider with client id ${clientId}`);
      Object.assign(provider, fields);
    },
    applicationCount: () => applications.size,
    strayApplicationCount: () => [...applications.values()].filter((application) => application.provider === null).length,
    addScopeMappings,
    scopeMappingPk: (scopeName) => scopeMappings.find((mapping) => mapping.scope_name === scopeName)?.pk,
    createForeignClient(name = 'Grafana') {
      const pk = nextPk++;
      const clientId = randomBytes(20).toString('hex');
      providers.set(pk, {
        pk,
        name: `Provider for ${name} ${pk}`,
        authorization_flow: flows.authorization,
        invalidation_flow: flows.invalidation,
        client_type: 'confidential',
        client_id: clientId,
        client_secret: randomBytes(64).toString('hex'),
        redirect_uris: [{ matching_mode: 'strict', url: 'https://foreign.example.com/cb' }],
        property_mappings: [],
        // authentik's admin interface selects every grant type for a new provider (issue goauthentik/authentik#22273).
        ...(listsGrants && { grant_types: [...GRANT_TYPES] }),
      });
      const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${pk}`.slice(0, 50);
      applications.set(slug, { pk: randomUUID(), name, slug, provider: pk, meta_description: '', meta_publisher: '' });
      return clientId;
    },
    async clientCredentials(clientId, clientSecret) {
      const res = await fetch(`${server.origin}/application/o/token/`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
      });
      return res.ok;
    },
    close: server.close,
  };
}
