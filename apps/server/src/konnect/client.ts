import { redactText } from '@dcr-bridge/core/http';

/**
 * A small client of Konnect's public API for `dcr-bridge konnect`: the regional v2 API (DCR providers,
 * application auth strategies, verify) and the global v3 identity API (whose organization the token is).
 * The token goes in `Authorization: Bearer` and nowhere else: never in a message, a report or a log.
 * Konnect's 429 is retried after its Retry-After (at most `retries` times, each wait at most 30 s), then
 * reported plainly; every other non-2xx becomes a `KonnectError` with Konnect's own detail.
 */
export const KONNECT_REGIONS = ['us', 'eu', 'au', 'me', 'in', 'sg'] as const;

export interface KonnectClientOptions {
  token: string;
  /** The regional API's origin, e.g. https://us.api.konghq.com (v2 paths are added). */
  regionalUrl: string;
  /** The global API's origin, e.g. https://global.api.konghq.com (v3 paths are added). */
  globalUrl: string;
  timeoutMs?: number;
  /** How many times a 429 is retried. Default 3. */
  retries?: number;
  /** For tests: how long to wait (ms) for a given Retry-After. */
  sleep?: (ms: number) => Promise<void>;
}

export class KonnectError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'KonnectError';
  }
}

export interface KonnectClient {
  /** `GET/POST/PATCH` on the regional v2 API; path like `/dcr-providers`. */
  v2<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Every item of a paginated v2 collection (page[size]=100, page[number]=1, 2, … until meta.page.total). */
  list<T>(path: string): Promise<T[]>;
  /** The organization the token belongs to (global v3 `/organizations/me`). */
  organization(): Promise<{ id?: string; name?: string }>;
}

/** Where the regional and global APIs are, from KONNECT_API_URL or KONNECT_REGION (default us). */
export function konnectUrls(env: Record<string, string | undefined>): { regionalUrl: string; globalUrl: string } | { problem: string } {
  const explicit = env.KONNECT_API_URL?.trim();
  if (explicit) {
    let url: URL;
    try {
      url = new URL(explicit);
    } catch {
      return { problem: 'KONNECT_API_URL is not a URL (e.g. https://eu.api.konghq.com)' };
    }
    if (url.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
      return { problem: 'KONNECT_API_URL must be https (the token travels in it)' };
    const origin = `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '')}`;
    // A regional host has its global sibling; anything else (a proxy, a test stub) serves both.
    const global = /^[a-z]+\.api\.konghq\.(com|tech)$/.test(url.hostname)
      ? `https://global.${url.hostname.split('.').slice(1).join('.')}`
      : origin;
    return { regionalUrl: origin, globalUrl: global };
  }
  const region = (env.KONNECT_REGION?.trim() || 'us').toLowerCase();
  if (!(KONNECT_REGIONS as readonly string[]).includes(region))
    return { problem: `KONNECT_REGION must be one of ${KONNECT_REGIONS.join(', ')} (got "${region}")` };
  return { regionalUrl: `https://${region}.api.konghq.com`, globalUrl: 'https://global.api.konghq.com' };
}

export function createKonnectClient(options: KonnectClientOptions): KonnectClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const call = async <T>(origin: string, method: string, path: string, body?: unknown): Promise<T> => {
    const shown = `${method} ${path.split('?')[0]}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${origin}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${options.token}`,
            accept: 'application/json, application/problem+json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        throw new KonnectError(
          `Konnect did not answer ${shown} (${redactText(String(cause))})`,
          null,
          `check the network path to ${origin} (KONNECT_REGION / KONNECT_API_URL)`,
        );
      }
      const text = await res.text();
      const parsed = parseJson(text);
      if (res.status === 429 && attempt < retries) {
        await sleep(retryAfterMs(res.headers.get('retry-after')));
        continue;
      }
      if (res.ok) return parsed as T;
      throw problemError(res.status, shown, parsed, res.headers.get('retry-after'), attempt);
    }
  };

  return {
    v2: (method, path, body) => call(options.regionalUrl, method, `/v2${path}`, body),
    async list<T>(path: string) {
      const items: T[] = [];
      for (let page = 1; page <= 1000; page++) {
        const answer = await call<{ data?: T[]; meta?: { page?: { total?: number; size?: number } } }>(
          options.regionalUrl,
          'GET',
          `/v2${path}?page%5Bsize%5D=100&page%5Bnumber%5D=${page}`,
        );
        const data = answer.data ?? [];
        items.push(...data);
        const total = answer.meta?.page?.total ?? items.length;
        if (data.length === 0 || items.length >= total) break;
      }
      return items;
    },
    organization: () => call(options.globalUrl, 'GET', '/v3/organizations/me'),
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds (or an HTTP date), bounded to 30 s; 1 s when absent. */
function retryAfterMs(header: string | null): number {
  if (!header) return 1_000;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Math.min(Math.max(Number.isFinite(ms) ? ms : 1_000, 0), 30_000);
}

interface Problem {
  title?: unknown;
  detail?: unknown;
  instance?: unknown;
  invalid_parameters?: Array<{ field?: unknown; reason?: unknown }>;
}

/** Konnect's problem+json ({status, title, detail, instance, invalid_parameters}) as one message with a fix. */
function problemError(status: number, shown: string, body: unknown, retryAfter: string | null, retried: number): KonnectError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  const parts = [typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : undefined];
  for (const parameter of Array.isArray(problem.invalid_parameters) ? problem.invalid_parameters : [])
    parts.push(`${String(parameter.field)}: ${String(parameter.reason)}`);
  const trace = typeof problem.instance === 'string' ? ` [${problem.instance}]` : '';
  const said = parts.filter(Boolean).join('; ');
  const message = redactText(`Konnect answered ${status} to ${shown}${said ? `: ${said}` : ''}${trace}`);
  const fixes: Record<number, string> = {
    401: 'KONNECT_TOKEN was refused: it is wrong, expired or for another region; make a new personal (kpat_…) or system account (spat_…) access token',
    403: "the token's account may not do this: give it the Organization Admin role, or a team with the Application Auth Strategies and DCR provider (Portal) admin permissions",
    404: 'it is gone from Konnect (deleted meanwhile?): run the command again',
    409: 'Konnect refuses while the object is in use: detach it first',
    429: `Konnect's rate limit: still refused after ${retried} retr${retried === 1 ? 'y' : 'ies'}${retryAfter ? ` (Retry-After ${retryAfter})` : ''}; wait a minute and run the command again, and let other automation on this token pause`,
  };
  return new KonnectError(
    message,
    status,
    fixes[status] ?? (status >= 500 ? "a problem on Konnect's side: try again later (status.konghq.com)" : 'see the detail'),
  );
}
