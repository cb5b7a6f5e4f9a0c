/**
 * Typed reads of configuration values with every problem collected, so that the server can report all of
 * them at boot at once. Problems name the setting and never echo a secret's value.
 */
export interface SettingsReader {
  /** A string; empty counts as unset. */
  string(name: string, options?: { required?: boolean; default?: string }): string | undefined;
  /** Like string, but the value is never repeated in a problem. */
  secret(name: string, options?: { required?: boolean }): string | undefined;
  /** An absolute http(s) URL. `https` only unless `allowHttp`. */
  url(name: string, options?: { required?: boolean; default?: string; allowHttp?: boolean }): string | undefined;
  integer(name: string, options: { default: number; min?: number; max?: number }): number;
  boolean(name: string, options: { default: boolean }): boolean;
  /** Comma-separated, trimmed, empty items dropped. */
  list(name: string, options?: { required?: boolean }): string[];
  oneOf<T extends string>(name: string, allowed: readonly T[], options?: { default?: T; required?: boolean }): T | undefined;
  /** The raw value, trimmed; undefined when unset or empty. */
  raw(name: string): string | undefined;
  /** Records a problem the typed reads cannot express (e.g. "set A or B, not both"). */
  problem(message: string): void;
  readonly problems: string[];
  /** Every setting name asked for so far, set or not: what a configuration file may hold. */
  readonly names: ReadonlySet<string>;
}

export function createSettingsReader(values: Record<string, string | undefined>): SettingsReader {
  const problems: string[] = [];
  const names = new Set<string>();
  const raw = (name: string) => {
    names.add(name);
    const value = values[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const missing = (name: string) => problems.push(`${name} is required.`);

  return {
    problems,
    names,
    raw,
    problem: (message) => void problems.push(message),
    string(name, options = {}) {
      const value = raw(name) ?? options.default;
      if (value === undefined && options.required) missing(name);
      return value;
    },
    secret(name, options = {}) {
      const value = raw(name);
      if (value === undefined && options.required) missing(name);
      return value;
    },
    url(name, options = {}) {
      const value = raw(name) ?? options.default;
      if (value === undefined) {
        if (options.required) missing(name);
        return undefined;
      }
      let parsed: URL;
      try {
        parsed = new URL(value);
      } catch {
        problems.push(`${name} must be an absolute URL (got "${value}").`);
        return undefined;
      }
      const allowed = options.allowHttp ? ['https:', 'http:'] : ['https:'];
      if (!allowed.includes(parsed.protocol)) {
        problems.push(`${name} must be an ${allowed.join(' or ').replace(/:/g, '')} URL (got "${value}").`);
        return undefined;
      }
      return value;
    },
    integer(name, options) {
      const value = raw(name);
      if (value === undefined) return options.default;
      const number = Number(value);
      if (!Number.isInteger(number) || (options.min !== undefined && number < options.min) || (options.max !== undefined && number > options.max)) {
        const range = [options.min !== undefined ? `≥ ${options.min}` : '', options.max !== undefined ? `≤ ${options.max}` : ''].filter(Boolean).join(' and ');
        problems.push(`${name} must be a whole number${range ? ` ${range}` : ''} (got "${value}").`);
        return options.default;
      }
      return number;
    },
    boolean(name, options) {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return options.default;
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      problems.push(`${name} must be true or false (got "${value}").`);
      return options.default;
    },
    list(name, options = {}) {
      const items = (raw(name) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
      if (items.length === 0 && options.required) missing(name);
      return items;
    },
    oneOf(name, allowed, options = {}) {
      const value = raw(name) ?? options.default;
      if (value === undefined) {
        if (options.required) missing(name);
        return undefined;
      }
      if (!allowed.includes(value as (typeof allowed)[number])) {
        problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}").`);
        return undefined;
      }
      return value as (typeof allowed)[number];
    },
  };
}
