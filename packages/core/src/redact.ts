/**
 * Redaction of secrets before anything is logged. Keys are matched by name, so that a new field called
 * `client_secret`, `registration_access_token` or `Authorization` is hidden without anyone remembering
 * to add it. Values that look like credentials in free text (Bearer/Basic/SSWS schemes) are masked too.
 */
const SECRET_KEY = /secret|token|password|passwd|authorization|api[-_]?key|assertion|private|credential|cookie|^key$|signature/i;
const CREDENTIAL_IN_TEXT = /\b(Bearer|Basic|SSWS|DPoP)\s+[A-Za-z0-9._~+/=-]+/g;
export const REDACTED = '[REDACTED]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactText(text: string): string {
  return text.replace(CREDENTIAL_IN_TEXT, `$1 ${REDACTED}`);
}

/** A deep copy of `value` with every secret-named field replaced by `[REDACTED]`. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return redactError(value);
  if (value instanceof URL) return redactUrl(value);
  if (value instanceof Headers) return redact(Object.fromEntries(value.entries()), depth + 1);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSecretKey(key) && item !== undefined && item !== null ? REDACTED : redact(item, depth + 1);
    }
    return out;
  }
  return value;
}

/** A URL as text with secret-named query parameters and any user info removed. */
export function redactUrl(url: URL | string): string {
  const parsed = new URL(String(url));
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (isSecretKey(key)) parsed.searchParams.set(key, REDACTED);
  }
  return parsed.toString();
}

function redactError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactText(error.message) };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.cause !== undefined) out.cause = redact(error.cause, 1);
  return out;
}
