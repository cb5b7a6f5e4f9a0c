import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * X-API-KEY check against a list of keys (Konnect holds one key at a time, so a rotation needs the old
 * and the new one accepted together). Keys are compared as SHA-256 digests with timingSafeEqual, and
 * every configured key is compared on every request, so timing reveals neither a key nor which one matched.
 */
export function createApiKeyVerifier(keys: string[]): (presented: string | undefined) => boolean {
  if (keys.length === 0) throw new Error('At least one API key is required.');
  const digests = keys.map(digest);
  return (presented) => {
    if (typeof presented !== 'string' || presented === '') return false;
    const candidate = digest(presented);
    let matched = false;
    for (const key of digests) matched = timingSafeEqual(key, candidate) || matched;
    return matched;
  };
}

/** Konnect accepts API keys of 12–256 characters of [A-Za-z0-9_]; a key outside that can never be configured there. */
export function apiKeyProblem(key: string): string | undefined {
  if (!/^[A-Za-z0-9_]{12,256}$/.test(key))
    return 'must be 12–256 characters of A–Z, a–z, 0–9 and _ (what Konnect accepts as a DCR provider api_key)';
  return undefined;
}

/** A new API key: 256 random bits as 43 characters of [A-Za-z0-9_], which Konnect accepts (`apiKeyProblem`). */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url').replace(/-/g, '_');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
