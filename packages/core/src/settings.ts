import * as v from 'valibot';

/**
 * Settings declared as a schema, checked by valibot. A package declares each of its settings once (name, type,
 * required or default, secret or not, and the text the configuration reference shows); `readSettings` turns the
 * environment (over a configuration file) into typed options through the declaration, collecting every problem
 * at once. A problem names the setting and says what it must be; it never repeats a secret's value, nor a URL's
 * (it may carry a password: `https://user:password@host`).
 */

/** How a rejected value shows in a problem: repeated, or not (a secret; a URL, which may hold a password). */
type Concealed = 'no' | 'secret' | 'url';

/** One setting: what `readSettings` checks, and what the configuration reference says. */
export interface Setting<T> {
  /** The name after the group's prefix (`URL` is `KEYCLOAK_URL`), or the whole name when `unprefixed`. */
  readonly name: string;
  /** Read by that name outside the group's prefix (an SDK's own setting, such as `AWS_REGION`). */
  readonly unprefixed: boolean;
  /** For the reference: `text`, `secret`, `URL`, `whole number`, `duration`, `boolean`, `list` or `one of …`. */
  readonly type: string;
  /** What the setting is for, as the configuration reference shows it (Markdown). */
  readonly doc: string;
  readonly required: boolean;
  /** The value when the setting is unset (or rejected). */
  readonly default?: T;
  /** The default as the reference shows it (Markdown); undefined: none. */
  readonly defaultText?: string;
  /** The factory option as the reference shows it, when it is not the option the setting reads to. */
  readonly optionText?: string;
  readonly concealed: Concealed;
  /** URLs only: whether plain http is taken without the group's `<PREFIX>_ALLOW_INSECURE_HTTP`. */
  readonly allowHttp?: boolean;
  /** Checks the trimmed value (undefined when unset or empty); an issue's message says what the value must be. */
  readonly schema: v.GenericSchema<string | undefined, T>;
}

interface Common {
  /** What the setting is for (Markdown), shown in the configuration reference. */
  doc: string;
  /** Read by this whole name, outside the group's prefix. */
  unprefixed?: boolean;
  /** The default as the reference shows it, when it is decided in code (e.g. another setting's value). */
  defaultText?: string;
  /** The factory option as the reference shows it, when it is not the option the setting reads to (`auth.apiToken`). */
  optionText?: string;
}
/** What a value must be: a pattern or a test, and the words a problem says it with ("must be <expected>"). */
interface Valid {
  test: RegExp | ((value: string) => boolean);
  expected: string;
}
function validated(valid: Valid | undefined): v.GenericSchema<string, string> {
  if (valid === undefined) return v.string();
  const { test, expected } = valid;
  return v.pipe(v.string(), typeof test === 'function' ? v.check(test, expected) : v.regex(test, expected));
}
type Presence<T> = { required: true; default?: undefined } | { required?: false; default?: T };
type Read<T, O> = O extends { required: true } ? T : O extends { default: T } ? T : T | undefined;

/** A value's shape and what it must be when it is not that: `expected` ends "must be …". */
interface Shape<T> {
  type: string;
  concealed?: Concealed;
  allowHttp?: boolean;
  check: v.GenericSchema<string, T>;
}

function declare<T>(name: string, options: Common & { required?: boolean; default?: T }, shape: Shape<T>, shown?: string): Setting<never> {
  const { required = false, unprefixed = false } = options;
  const schema = required ? v.pipe(v.string(REQUIRED), shape.check) : v.optional(shape.check);
  const defaultText = options.defaultText ?? (shown === undefined ? undefined : `\`${shown}\``);
  return {
    name,
    unprefixed,
    type: shape.type,
    doc: options.doc,
    required,
    ...(options.default === undefined ? {} : { default: options.default as never }),
    ...(defaultText === undefined ? {} : { defaultText }),
    ...(options.optionText === undefined ? {} : { optionText: options.optionText }),
    concealed: shape.concealed ?? 'no',
    ...(shape.allowHttp === undefined ? {} : { allowHttp: shape.allowHttp }),
    schema: schema as unknown as v.GenericSchema<string | undefined, never>,
  };
}

/** The issue message of an unset required setting (the problem is then "<NAME> is required."). */
const REQUIRED = 'required';

type TextOptions = Common &
  Presence<string> & {
    valid?: Valid;
    /** Never repeat the value (it may be a URL with a password). */
    concealed?: boolean;
  };
type SecretOptions = Common & { required?: boolean; valid?: Valid };
type UrlOptions = Common & Presence<string> & { allowHttp?: boolean };
type NumberOptions = Common & { default?: number; min?: number; max?: number };
type DurationOptions = Common & { default: number; max?: number };
type ChoiceOptions<T> = Common & Presence<T>;

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

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** The setting types: each builds a `Setting` whose value has the type its options say (required or defaulted: never undefined). */
export const setting = {
  /** Text; with `valid`, text that passes it. */
  text<O extends TextOptions>(name: string, options: O): Setting<Read<string, O>> {
    return declare(
      name,
      options,
      { type: 'text', concealed: options.concealed ? 'url' : 'no', check: validated(options.valid) },
      options.default,
    );
  },
  /** A secret: never repeated in a problem, never shown in the reference. */
  secret<O extends SecretOptions>(name: string, options: O): Setting<O extends { required: true } ? string : string | undefined> {
    return declare(name, options, { type: 'secret', concealed: 'secret', check: validated(options.valid) });
  },
  /**
   * An absolute http(s) URL. `https` only unless `allowHttp`, or the group's `<PREFIX>_ALLOW_INSECURE_HTTP` (one
   * rule for every adapter's admin URLs). A rejected value is never repeated in a problem.
   */
  url<O extends UrlOptions>(name: string, options: O): Setting<Read<string, O>> {
    const schemes = options.allowHttp ? 'an http or https URL' : 'an https URL';
    const check = v.pipe(
      v.string(),
      v.url('an absolute URL such as https://idp.example.com'),
      // Runs after a failed v.url too (valibot goes on checking): a value that is no URL is that problem alone.
      v.check((value) => !URL.canParse(value) || ['http:', 'https:'].includes(new URL(value).protocol), schemes),
    );
    return declare(name, options, { type: 'URL', concealed: 'url', allowHttp: options.allowHttp ?? false, check }, options.default);
  },
  /** A whole number within `min`…`max`. */
  integer<O extends NumberOptions>(name: string, options: O): Setting<O extends { default: number } ? number : number | undefined> {
    const range = [options.min !== undefined ? `≥ ${options.min}` : '', options.max !== undefined ? `≤ ${options.max}` : '']
      .filter(Boolean)
      .join(' and ');
    const expected = `a whole number${range ? ` ${range}` : ''}`;
    const check = v.pipe(
      v.string(),
      v.transform(Number),
      v.integer(expected),
      v.minValue(options.min ?? Number.MIN_SAFE_INTEGER, expected),
      v.maxValue(options.max ?? Number.MAX_SAFE_INTEGER, expected),
    );
    const shown = options.default === undefined ? undefined : `${options.default}`;
    const rangeText = options.min !== undefined && options.max !== undefined ? ` (${options.min}–${options.max})` : '';
    return declare(
      name,
      { ...options, defaultText: options.defaultText ?? (shown && `\`${shown}\`${rangeText}`) },
      { type: 'whole number', check },
      shown,
    );
  },
  /** A duration such as `0`, `90s`, `15m`, `1h30m` or `500ms` (units ms, s, m, h, d), in milliseconds. */
  duration(name: string, options: DurationOptions): Setting<number> {
    const expected = `a duration such as 0, 90s, 15m or 1h30m${options.max === undefined ? '' : `, at most ${options.max / 3_600_000} h`}`;
    const check = v.pipe(
      v.string(),
      v.check((value) => parseDuration(value) !== undefined, expected),
      v.transform((value) => parseDuration(value) as number),
      v.maxValue(options.max ?? Number.MAX_SAFE_INTEGER, expected),
    );
    return declare(name, options, { type: 'duration', check }, options.default === 0 ? '0' : undefined);
  },
  /** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`, in any case). */
  boolean(name: string, options: Common & { default: boolean }): Setting<boolean> {
    const check = v.pipe(
      v.string(),
      v.transform((value) => value.toLowerCase()),
      v.picklist([...TRUE_WORDS, ...FALSE_WORDS], 'true or false'),
      v.transform((word) => TRUE_WORDS.includes(word)),
    );
    return declare(name, options, { type: 'boolean', check }, `${options.default}`);
  },
  /** Comma-separated, trimmed, empty items dropped; unset is the empty list. */
  list(name: string, options: Common & { required?: boolean }): Setting<string[]> {
    const check = v.pipe(
      v.string(),
      v.transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      ),
      v.minLength(options.required ? 1 : 0, 'a comma-separated list'),
    );
    return declare(
      name,
      { ...options, ...(options.required ? {} : { default: [] as string[] }) },
      { type: 'list', check },
      undefined,
    ) as Setting<string[]>;
  },
  /** One of `values`. */
  oneOf<const T extends string, O extends ChoiceOptions<T>>(name: string, values: readonly T[], options: O): Setting<Read<T, O>> {
    const expected = `one of ${values.join(', ')}`;
    return declare(
      name,
      options,
      { type: `one of ${values.map((value) => `\`${value}\``).join(', ')}`, check: v.picklist(values, expected) },
      options.default,
    );
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a map of settings of any value type
type SettingMap = Record<string, Setting<any>>;
/** The values a map of settings reads to, by option name. */
export type SettingValues<S extends SettingMap> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** What the rules between settings see: whether a setting is set at all (even to a rejected value). */
export interface SettingsCheckContext<S extends SettingMap> {
  isSet(option: keyof S): boolean;
}

export interface SettingsDeclaration<S extends SettingMap, Options> {
  /** The prefix of every setting's name (`KEYCLOAK`: `URL` is `KEYCLOAK_URL`); none for the server's own. */
  prefix?: string;
  /** The settings, by the option (or value) each one reads to. */
  settings: S;
  /** Rules between settings ("set A or B, not both"): the problems, each naming its settings. */
  check?(values: SettingValues<S>, context: SettingsCheckContext<S>): string[];
  /** The options from the checked values; default: the values themselves. */
  options?(values: SettingValues<S>): Options;
}

/** A declared group of settings: read with `readSettings`, shown by the configuration reference. */
export interface SettingsSchema<Options = unknown> {
  readonly prefix: string | undefined;
  /** Every setting with its whole name and the option it reads to, in declaration order. */
  readonly entries: ReadonlyArray<{ readonly option: string; readonly fullName: string; readonly setting: Setting<unknown> }>;
  /** @internal The declaration's rules and options. */
  readonly finish: (values: Record<string, unknown>, isSet: (option: string) => boolean) => { options: Options; problems: string[] };
}

/** The options a declared group of settings reads to. */
export type OptionsOf<Schema> = Schema extends SettingsSchema<infer Options> ? Options : never;

export function defineSettings<S extends SettingMap, Options = SettingValues<S>>(
  declaration: SettingsDeclaration<S, Options>,
): SettingsSchema<Options> {
  const { prefix } = declaration;
  const entries = Object.entries(declaration.settings).map(([option, setting]) => ({
    option,
    fullName: setting.unprefixed || prefix === undefined ? setting.name : `${prefix}_${setting.name}`,
    setting: setting as Setting<unknown>,
  }));
  return {
    prefix,
    entries,
    finish(values, isSet) {
      const typed = values as SettingValues<S>;
      const problems = declaration.check?.(typed, { isSet: (option) => isSet(option as string) }) ?? [];
      return { options: declaration.options ? declaration.options(typed) : (values as Options), problems };
    },
  };
}

/** The setting, in each adapter's group, that allows its URLs to be plain http. */
export const INSECURE_HTTP = 'ALLOW_INSECURE_HTTP';

/** Why a rejected URL is not in its problem: `https://user:password@host` carries a password. */
const NOT_REPEATED = ' (its value is not repeated here, as a URL may hold a password).';

export type SettingsResult<Options> = { options: Options; problems: string[] };

/**
 * Reads a group's settings from `values` (environment over configuration file; unset and empty are the same):
 * typed options and every problem. The options are meaningful only when there are no problems (a rejected
 * setting reads to its default).
 */
export function readSettings<Options>(
  schema: SettingsSchema<Options>,
  values: Record<string, string | undefined>,
): SettingsResult<Options> {
  const problems: string[] = [];
  const read: Record<string, unknown> = {};
  const raw = (fullName: string) => {
    const value = values[fullName]?.trim();
    return value === '' ? undefined : value;
  };
  for (const { option, fullName, setting } of schema.entries) {
    const value = raw(fullName);
    const result = v.safeParse(setting.schema, value);
    if (!result.success) problems.push(problemOf(fullName, setting, value, result.issues[0].message));
    const fallback = Array.isArray(setting.default) ? [...setting.default] : setting.default;
    read[option] = result.success && result.output !== undefined ? result.output : fallback;
  }
  problems.push(...plainHttpProblems(schema, read));
  const finished = schema.finish(read, (option) => {
    const entry = schema.entries.find((candidate) => candidate.option === option);
    return entry !== undefined && raw(entry.fullName) !== undefined;
  });
  return { options: finished.options, problems: [...problems, ...finished.problems] };
}

/** The one message builder: the setting, what it must be, and the value only where it is safe to repeat. */
function problemOf(fullName: string, setting: Setting<unknown>, value: string | undefined, expected: string): string {
  if (value === undefined) return `${fullName} is required.`;
  if (setting.concealed === 'url') return `${fullName} must be ${expected}${NOT_REPEATED}`;
  if (setting.concealed === 'secret') return `${fullName} must be ${expected}.`;
  return `${fullName} must be ${expected} (got "${value}").`;
}

/** https only: a URL setting without `allowHttp` takes http only with the group's `<PREFIX>_ALLOW_INSECURE_HTTP`. */
function plainHttpProblems(schema: SettingsSchema<unknown>, read: Record<string, unknown>): string[] {
  const insecure = schema.entries.find(({ setting }) => !setting.unprefixed && setting.name === INSECURE_HTTP);
  if (insecure !== undefined && read[insecure.option] === true) return [];
  const why = insecure
    ? ` (over http, admin credentials travel in clear; for an IdP on this machine or a private network, set ${insecure.fullName}=true)`
    : '';
  return schema.entries
    .filter(({ option, setting }) => setting.type === 'URL' && !setting.allowHttp && typeof read[option] === 'string')
    .filter(({ option }) => new URL(read[option] as string).protocol === 'http:')
    .map(({ option, fullName }) => {
      read[option] = undefined;
      return `${fullName} must be an https URL${why}${NOT_REPEATED}`;
    });
}

/** The settings every adapter has, under its own prefix: `<PREFIX>_TIMEOUT_MS` and `<PREFIX>_ALLOW_INSECURE_HTTP`. */
export const COMMON_ADAPTER_SETTINGS = {
  timeoutMs: setting.integer('TIMEOUT_MS', {
    default: 30_000,
    min: 100,
    max: 120_000,
    doc: "ceiling of one request (one attempt) to the IdP; the operation's budget (Konnect's deadline, then `DCR_BRIDGE_COMPLETION_TIMEOUT_MS` for work under way) usually ends a request first",
  }),
  allowInsecureHttp: setting.boolean(INSECURE_HTTP, {
    default: false,
    optionText: '—',
    doc: "`true` lets the adapter's URLs be plain `http://` (an IdP on this machine or a private network): admin credentials then travel in clear. Without it an `http://` URL is refused at start, naming this setting; `dcr-bridge doctor` warns about admin traffic over http",
  }),
};

type CommonSettings = typeof COMMON_ADAPTER_SETTINGS;

/**
 * An adapter's settings: its own, all named `<prefix>_…`, and the ones every adapter has
 * (`COMMON_ADAPTER_SETTINGS`). Without `options`, the options are the values but `allowInsecureHttp`, which
 * only the URL rule reads.
 */
export function defineAdapterSettings<S extends SettingMap, Options = Omit<SettingValues<S & CommonSettings>, 'allowInsecureHttp'>>(
  declaration: Omit<SettingsDeclaration<S & CommonSettings, Options>, 'settings'> & { prefix: string; settings: S },
): SettingsSchema<Options> {
  const withoutSwitch = (values: SettingValues<S & CommonSettings>) => {
    const { allowInsecureHttp: _switch, ...options } = values;
    return options as unknown as Options;
  };
  return defineSettings<S & CommonSettings, Options>({
    ...declaration,
    // The adapter's own first, then the common ones; an adapter may declare a common one itself (its own text).
    settings: { ...declaration.settings, ...COMMON_ADAPTER_SETTINGS, ...declaration.settings },
    options: declaration.options ?? withoutSwitch,
  });
}

/**
 * How an operator sets each of an adapter's options, by the option's key in its settings declaration
 * (`{ realm: 'KEYCLOAK_REALM' }`): what the doctor's texts name, so that they say which setting to change.
 */
export type SettingNames = Readonly<Record<string, string>>;

/** The declared settings' names by option key (`settingNamesOf(settings)` in an adapter's module.ts). */
export function settingNamesOf(schema: SettingsSchema): SettingNames {
  return Object.fromEntries(schema.entries.map(({ option, fullName }) => [option, fullName]));
}

/**
 * The name to tell an operator for `option`: its setting (`KEYCLOAK_REALM`) where the adapter was configured by
 * settings, else the option itself (`` the `realm` option ``) for an adapter built in code.
 */
export function settingName(names: SettingNames | undefined, option: string): string {
  return names?.[option] ?? `the \`${option}\` option`;
}
