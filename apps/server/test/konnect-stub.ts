import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { createApiDescription, type ApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';

/**
 * Konnect's public API as `dcr-bridge konnect` uses it, built from the pinned OpenAPI documents
 * (test/fixtures/konnect-api: application-auth-strategies v2 and identity v3, Kong/developer.konghq.com bc1cd74):
 * DCR providers (the api_key write-only, as Konnect answers), application auth strategies, verify (which calls
 * the bridge at dcr_base_url as Konnect's Verify button does, with portal_id "test portal_id"), pagination by
 * page[size] / page[number] with meta.page, problem+json errors, the bearer token and 429 with Retry-After.
 * Every request and every answer is checked against the documents; a request they refuse is answered 400.
 *
 * Exceptions, where the documents say less than Konnect does: the v2 document lists no 429 (Konnect's rate
 * limit answers every API with it); its body is checked against identity v3's RateLimited response. And one for
 * the checker: see `inline` (the oneOf members the bridge uses are put first).
 */
const specDir = new URL('./fixtures/konnect-api/', import.meta.url);
const SPEC_FILES = {
  v2: 'application-auth-strategies.v2.openapi.yaml',
  v3: 'identity.v3.openapi.yaml',
};

function load(file: string): OpenApiDocument & { components: Record<string, Record<string, unknown>> } {
  return parse(readFileSync(new URL(file, specDir), 'utf8')) as OpenApiDocument & { components: Record<string, Record<string, unknown>> };
}

/** Inlines `#/components/{responses,requestBodies,parameters}/…` (the description checks inline ones); schema refs stay. */
function inline(document: ReturnType<typeof load>, extra: Record<string, unknown> = {}): OpenApiDocument {
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const ref = (value as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') {
      const match = /^#\/components\/(responses|requestBodies|parameters)\/(.+)$/.exec(ref);
      if (match) return resolve(document.components[match[1]!]?.[match[2]!]);
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item)]));
  };
  const paths = resolve(document.paths) as OpenApiDocument['paths'];
  // The description's unknown-field check reads a nested object's fields from the first oneOf member that has
  // them, not by the discriminator: the members the bridge uses (http, openid_connect) go first. Validation
  // still sees every member.
  const schemas = document.components.schemas as Record<string, { oneOf?: Array<{ $ref: string }> }>;
  for (const [name, first] of [
    ['CreateDcrProviderRequest', 'CreateDcrProviderRequestHttp'],
    ['CreateAppAuthStrategyRequest', 'AppAuthStrategyOpenIDConnectRequest'],
    ['AppAuthStrategy', 'AppAuthStrategyOpenIDConnectResponse'],
  ] as const) {
    const members = schemas[name]?.oneOf ?? [];
    members.sort((a, b) => Number(b.$ref.endsWith(`/${first}`)) - Number(a.$ref.endsWith(`/${first}`)));
  }
  for (const item of Object.values(paths))
    for (const [method, operation] of Object.entries(item))
      if (method !== 'parameters') (operation as { responses: Record<string, unknown> }).responses['429'] ??= extra['429'];
  return { openapi: document.openapi, paths, components: { schemas: document.components.schemas } };
}

export interface StoredProvider {
  id: string;
  name: string;
  display_name?: string;
  provider_type: string;
  issuer: string;
  dcr_config: { dcr_base_url: string; api_key?: string; disable_event_hooks?: boolean; disable_refresh_secret?: boolean };
  labels: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export interface StoredStrategy {
  id: string;
  name: string;
  display_name: string;
  strategy_type: string;
  configs: Record<string, Record<string, unknown>>;
  dcr_provider_id: string | null;
  active: boolean;
  labels: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export interface KonnectStub {
  /** Give it as KONNECT_API_URL. */
  url: string;
  token: string;
  v2: ApiDescription;
  v3: ApiDescription;
  providers: Map<string, StoredProvider>;
  strategies: Map<string, StoredStrategy>;
  /** `METHOD path` of every request, query included. */
  requests: string[];
  /** What each verify sent to the bridge and got: status and the portal_id sent. */
  verifications: Array<{ status: number | null; portalId: string }>;
  /** The largest page the stub gives (Konnect caps page[size]). */
  maxPageSize: number;
  /** The next `count` requests are answered 429 with this Retry-After. */
  rateLimit(count: number, retryAfter?: string): void;
  /** Every body the stub sent, for the "no secret in any answer" check. */
  answers: string[];
  close(): Promise<void>;
}

export async function startKonnectStub(options: { token?: string; maxPageSize?: number } = {}): Promise<KonnectStub> {
  const v2doc = load(SPEC_FILES.v2);
  const v3doc = load(SPEC_FILES.v3);
  const rateLimited = v3doc.components.responses?.RateLimited;
  const v2 = createApiDescription({
    name: 'Konnect application-auth-strategies v2 2.1.1 (Kong/developer.konghq.com bc1cd74)',
    document: inline(v2doc, { '429': rateLimited }),
    basePath: '/v2',
  });
  const v3 = createApiDescription({
    name: 'Konnect identity v3 3.4.5 (Kong/developer.konghq.com bc1cd74)',
    document: inline(v3doc),
    basePath: '/v3',
  });
  const token = options.token ?? `kpat_${randomUUID().replace(/-/g, '')}`;
  const providers = new Map<string, StoredProvider>();
  const strategies = new Map<string, StoredStrategy>();
  const requests: string[] = [];
  const answers: string[] = [];
  const verifications: KonnectStub['verifications'] = [];
  let limited = 0;
  let retryAfter = '0';
  const now = () => new Date().toISOString();

  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://stub');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    requests.push(`${method} ${path}${url.search}`);
    const raw = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => resolve(text));
    });
    const body = raw === '' ? undefined : (JSON.parse(raw) as Record<string, unknown>);
    const api = path.startsWith('/v3/') ? v3 : v2;
    const answer = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      if (status !== 429) api.checkResponse(method, path, status, payload);
      const text = payload === undefined ? '' : JSON.stringify(payload);
      answers.push(text);
      const type = status >= 400 ? 'application/problem+json' : 'application/json';
      res.writeHead(status, { ...(text ? { 'content-type': type } : {}), ...headers }).end(text);
    };
    const problem = (status: number, title: string, detail: string, extra: Record<string, unknown> = {}) =>
      answer(status, { status, title, instance: `kong:trace:${Math.floor(Math.random() * 1e18)}`, detail, ...extra });

    if (req.headers.authorization !== `Bearer ${token}`) return problem(401, 'Unauthorized', 'Invalid credentials');
    if (limited > 0) {
      limited--;
      return answer(
        429,
        { status: 429, title: 'Rate Limited', instance: 'konnect:trace:1', detail: 'Too many requests' },
        { 'retry-after': retryAfter },
      );
    }
    const found = api.checkRequest(method, path, body);
    if (found.length > 0)
      return problem(400, 'Bad Request', 'Invalid request', {
        invalid_parameters: found.map((reason) => ({ field: 'body', rule: 'type', source: 'body', reason })),
      });

    if (method === 'GET' && path === '/v3/organizations/me')
      return answer(200, { id: randomUUID(), name: 'Stub Org', owner_id: randomUUID() });

    const page = <T>(items: T[]) => {
      const size = Math.min(Number(url.searchParams.get('page[size]') ?? 10) || 10, options.maxPageSize ?? stub.maxPageSize);
      const number = Number(url.searchParams.get('page[number]') ?? 1) || 1;
      return { data: items.slice((number - 1) * size, number * size), meta: { page: { number, size, total: items.length } } };
    };
    const showProvider = (provider: StoredProvider) => {
      const { api_key: _key, ...config } = provider.dcr_config;
      const active = [...strategies.values()].some((strategy) => strategy.dcr_provider_id === provider.id && strategy.active);
      return { ...provider, dcr_config: config, active };
    };
    const showStrategy = (strategy: StoredStrategy) => {
      const { dcr_provider_id, ...rest } = strategy;
      const provider = dcr_provider_id ? providers.get(dcr_provider_id) : undefined;
      return { ...rest, dcr_provider: provider ? { id: provider.id, name: provider.name, provider_type: provider.provider_type } : null };
    };

    let match: RegExpExecArray | null;
    if (path === '/v2/dcr-providers' && method === 'GET') return answer(200, page([...providers.values()].map(showProvider)));
    if (path === '/v2/dcr-providers' && method === 'POST') {
      const created: StoredProvider = {
        ...(body as unknown as StoredProvider),
        labels: (body?.labels as Record<string, string>) ?? {},
        id: randomUUID(),
        created_at: now(),
        updated_at: now(),
      };
      providers.set(created.id, created);
      return answer(201, showProvider(created));
    }
    if ((match = /^\/v2\/dcr-providers\/([^/]+)(\/verify)?$/.exec(path))) {
      const provider = providers.get(match[1]!);
      if (!provider) return problem(404, 'Not Found', 'Not Found');
      if (match[2]) return answer(200, await verify(provider));
      if (method === 'GET') return answer(200, showProvider(provider));
      if (method === 'PATCH') {
        const { dcr_config, labels, ...rest } = body as { dcr_config?: object; labels?: Record<string, string> };
        Object.assign(provider, rest, { updated_at: now() });
        if (dcr_config) provider.dcr_config = { ...provider.dcr_config, ...dcr_config };
        if (labels) provider.labels = { ...provider.labels, ...labels };
        return answer(200, showProvider(provider));
      }
    }
    if (path === '/v2/application-auth-strategies' && method === 'GET')
      return answer(200, page([...strategies.values()].map(showStrategy)));
    if (path === '/v2/application-auth-strategies' && method === 'POST') {
      const created = {
        ...(body as unknown as StoredStrategy),
        dcr_provider_id: (body?.dcr_provider_id as string | undefined) ?? null,
        labels: (body?.labels as Record<string, string>) ?? {},
        active: false,
        id: randomUUID(),
        created_at: now(),
        updated_at: now(),
      };
      strategies.set(created.id, created);
      return answer(201, showStrategy(created));
    }
    if ((match = /^\/v2\/application-auth-strategies\/([^/]+)$/.exec(path))) {
      const strategy = strategies.get(match[1]!);
      if (!strategy) return problem(404, 'Not Found', 'Not Found');
      if (method === 'GET') return answer(200, showStrategy(strategy));
      if (method === 'PATCH') {
        const { configs, labels, ...rest } = body as { configs?: Record<string, Record<string, unknown>>; labels?: Record<string, string> };
        Object.assign(strategy, rest, { updated_at: now() });
        for (const [kind, config] of Object.entries(configs ?? {})) strategy.configs[kind] = { ...strategy.configs[kind], ...config };
        if (labels) strategy.labels = { ...strategy.labels, ...labels };
        return answer(200, showStrategy(strategy));
      }
    }
    return problem(404, 'Not Found', 'Not Found');
  }

  /** Konnect's Verify button: a real create with portal_id "test portal_id", then (the stub's tidiness) its delete. */
  async function verify(provider: StoredProvider): Promise<{ status: string; errors: string[] }> {
    const base = provider.dcr_config.dcr_base_url.replace(/\/+$/, '');
    const headers = { 'x-api-key': provider.dcr_config.api_key ?? '', 'content-type': 'application/json' };
    try {
      const res = await fetch(`${base}/`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          client_name: 'test application',
          application_description: '',
          redirect_uris: ['https://example.com/callback'],
          grant_types: ['client_credentials'],
          scopes: [],
          token_endpoint_auth_method: 'client_secret_post',
          portal_id: 'test portal_id',
          organization_id: randomUUID(),
          developer_id: randomUUID(),
          auth_strategy_id: randomUUID(),
          dcr_provider_id: provider.id,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const answer = (await res.json().catch(() => ({}))) as { client_id?: string; error_description?: string };
      verifications.push({ status: res.status, portalId: 'test portal_id' });
      if (!res.ok || !answer.client_id)
        return {
          status: 'failed',
          errors: [
            `Unable to create the DCR application (${res.status}${answer.error_description ? `: ${answer.error_description}` : ''})`,
          ],
        };
      await fetch(`${base}/${encodeURIComponent(answer.client_id)}`, { method: 'DELETE', headers, signal: AbortSignal.timeout(10_000) });
      return { status: 'success', errors: [] };
    } catch (error) {
      verifications.push({ status: null, portalId: 'test portal_id' });
      return { status: 'failed', errors: [`Unable to reach the DCR server (${(error as Error).message})`] };
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stub: KonnectStub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    v2,
    v3,
    providers,
    strategies,
    requests,
    verifications,
    answers,
    maxPageSize: options.maxPageSize ?? 100,
    rateLimit(count, after = '0') {
      limited = count;
      retryAfter = after;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return stub;
}
