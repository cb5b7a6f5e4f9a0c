/**
 * Typed reads of configuration values with every problem collected, so that the server can report all of
 * them at boot at once. Problems name the setting and never echo a secret's value, nor a URL's (it may
 * carry a password: `https://user:password@host`).
 */
export interface SettingsReader {
  /** A string; empty counts as unset. */
  string(name: string, options?: { required?: boolean; default?: string }): string | undefined;
  /** Like string, but the value is never repeated in a problem. */
  secret(name: string, options?: { required?: boolean }): string | undefined;
  /**
   * An absolute http(s) URL. `https` only unless `allowHttp`; in a scoped reader `allowHttp` defaults to the
   * scope's `<PREFIX>_ALLOW_INSECURE_HTTP` (one rule for every adapter's admin URLs). A rejected value is never
   * repeated in a problem.
   */
  url(name: string, options?: { required?: boolean; default?: string; allowHttp?: boolean }): string | undefined;
  integer(name: string, options: { default: number; min?: number; max?: number }): number;
  /** A duration such as `0`, `90s`, `15m`, `1h30m` or `500ms` (units ms, s, m, h, d), in milliseconds. */
  duration(name: string, options: { defaultMs: number; maxMs?: number }): number;
  boolean(name: string, options: { default: boolean }): boolean;
  /** Comma-separated, trimmed, empty items dropped. */
  list(name: string, options?: { required?: boolean }): string[];
  oneOf<T extends string>(name: string, allowed: readonly T[], options?: { default?: T; required?: boolean }): T | undefined;
  /** The raw value, trimmed; undefined when unset or empty. */
  raw(name: string): string | undefined;
  /** Records a problem the typed reads cannot express (e.g. "set A or B, not both"). */
  problem(message: string): void;
  /**
   * The settings under `prefix`: `settings.scoped('KEYCLOAK').string('URL')` reads `KEYCLOAK_URL`. Its
   * problems name the full setting and land in this reader's `problems`; the names it reads, in `names`.
   */
  scoped(prefix: string): ScopedSettingsReader;
  readonly problems: string[];
  /** Every setting name asked for so far, set or not: what a configuration file may hold. */
  readonly names: ReadonlySet<string>;
}

/** A reader of one adapter's settings, all named `<prefix>_<name>`. */
export interface ScopedSettingsReader extends SettingsReader {
  readonly prefix: string;
  /** The full name of a setting, for messages: `nameOf('URL')` is `KEYCLOAK_URL`. */
  nameOf(name: string): string;
}

/** The settings every adapter has, under its own prefix. */
export interface SharedAdapterSettings {
  /** `<PREFIX>_TIMEOUT_MS`: the ceiling of one request (one attempt) to the IdP. */
  timeoutMs: number;
}

/** `<PREFIX>_TIMEOUT_MS`: the operation's budget usually ends a request first; this bounds each attempt on its own. */
const IDP_TIMEOUT_SETTING = { name: 'TIMEOUT_MS', default: 30_000, min: 100, max: 120_000 } as const;

/** Reads the settings every adapter has (see `SharedAdapterSettings`) from the adapter's scoped reader. */
export function readSharedAdapterSettings(settings: ScopedSettingsReader): SharedAdapterSettings {
  const { name, ...range } = IDP_TIMEOUT_SETTING;
  return { timeoutMs: settings.integer(name, range) };
}

/** Why a rejected URL is not in its problem: `https://user:password@host` carries a password. */
const NOT_REPEATED = ' (its value is not repeated here, as a URL may hold a password).';

export function createSettingsReader(values: Record<string, string | undefined>): SettingsReader {
  const problems: string[] = [];
  const names = new Set<string>();
  return readerOver(values, problems, names, (name) => name);
}

function readerOver(
  values: Record<string, string | undefined>,
  problems: string[],
  names: Set<string>,
  fullName: (name: string) => string,
  /** A scope's `<PREFIX>_ALLOW_INSECURE_HTTP`: the one switch that lets its URLs be plain http. */
  insecureHttp?: { name: string; allowed: () => boolean },
): SettingsReader {
  const read = (name: string) => {
    const full = fullName(name);
    names.add(full);
    const value = values[full]?.trim();
    return { full, value: value === undefined || value === '' ? undefined : value };
  };
  const missing = (full: string) => problems.push(`${full} is required.`);

  return {
    problems,
    names,
    raw: (name) => read(name).value,
    problem: (message) => void problems.push(message),
    scoped(prefix) {
      const nameOf = (name: string) => fullName(`${prefix}_${name}`);
      const reader: SettingsReader = readerOver(values, problems, names, nameOf, {
        name: nameOf(INSECURE_HTTP),
        allowed: () => reader.boolean(INSECURE_HTTP, { default: false }),
      });
      return { ...reader, prefix: fullName(prefix), nameOf };
    },
    string(name, options = {}) {
      const { full, value = options.default } = read(name);
      if (value === undefined && options.required) missing(full);
      return value;
    },
    secret(name, options = {}) {
      const { full, value } = read(name);
      if (value === undefined && options.required) missing(full);
      return value;
    },
    url(name, options = {}) {
      const { full, value = options.default } = read(name);
      if (value === undefined) {
        if (options.required) missing(full);
        return undefined;
      }
      let parsed: URL;
      try {
        parsed = new URL(value);
      } catch {
        problems.push(`${full} must be an absolute URL such as https://idp.example.com${NOT_REPEATED}`);
        return undefined;
      }
      const allowHttp = options.allowHttp ?? insecureHttp?.allowed() ?? false;
      const allowed = allowHttp ? ['https:', 'http:'] : ['https:'];
      if (!allowed.includes(parsed.protocol)) {
        const why =
          parsed.protocol === 'http:' && insecureHttp
            ? ` (over http, admin credentials travel in clear; for an IdP on this machine or a private network, set ${insecureHttp.name}=true)`
            : '';
        problems.push(`${full} must be an ${allowed.join(' or ').replace(/:/g, '')} URL${why}${NOT_REPEATED}`);
        return undefined;
      }
      return value;
    },
    duration(name, options) {
      const { full, value } = read(name);
      if (value === undefined) return options.defaultMs;
      const ms = parseDuration(value);
      if (ms === undefined || (options.maxMs !== undefined && ms > options.maxMs)) {
        const most = options.maxMs === undefined ? '' : `, at most ${options.maxMs / 3_600_000} h`;
        problems.push(`${full} must be a duration such as 0, 90s, 15m or 1h30m${most} (got "${value}").`);
        return options.defaultMs;
      }
      return ms;
    },
    integer(name, options) {
      const { full, value } = read(name);
      if (value === undefined) return options.default;
      const number = Number(value);
      if (
        !Number.isInteger(number) ||
        (options.min !== undefined && number < options.min) ||
        (options.max !== undefined && number > options.max)
      ) {
        const range = [options.min !== undefined ? `≥ ${options.min}` : '', options.max !== undefined ? `≤ ${options.max}` : '']
          .filter(Boolean)
          .join(' and ');
        problems.push(`${full} must be a whole number${range ? ` ${range}` : ''} (got "${value}").`);
        return options.default;
      }
      return number;
    },
    boolean(name, options) {
      const { full, value } = read(name);
      if (value === undefined) return options.default;
      const word = value.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(word)) return true;
      if (['false', '0', 'no', 'off'].includes(word)) return false;
      problems.push(`${full} must be true or false (got "${word}").`);
      return options.default;
    },
    list(name, options = {}) {
      const { full, value } = read(name);
      const items = (value ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      if (items.length === 0 && options.required) missing(full);
      return items;
    },
    oneOf(name, allowed, options = {}) {
      const { full, value = options.default } = read(name);
      if (value === undefined) {
        if (options.required) missing(full);
        return undefined;
      }
      if (!allowed.includes(value as (typeof allowed)[number])) {
        problems.push(`${full} must be one of ${allowed.join(', ')} (got "${value}").`);
        return undefined;
      }
      return value as (typeof allowed)[number];
    },
  };
}

/** The setting, in each adapter's scope, that allows its URLs to be plain http. */
export const INSECURE_HTTP = 'ALLOW_INSECURE_HTTP';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0`, `90s`, `15m`, `1h30m`, `500ms` → milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g))
    total += Number(amount) * (DURATION_UNITS[unit as string] as number);
  return total;
}
