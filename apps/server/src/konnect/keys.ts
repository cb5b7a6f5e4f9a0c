import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { parseApiKeys } from '../config.js';

/**
 * The bridge's API keys as `dcr-bridge konnect` handles them: made here, written to the file the bridge reads
 * (DCR_BRIDGE_API_KEYS_FILE) with mode 600, named in output only by a fingerprint. A key is never printed,
 * logged or passed on a command line.
 */

/** What names a key in output: the first 12 hex digits of its SHA-256, which reveal nothing usable. */
export function fingerprint(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 12)}`;
}

export function readKeyFile(file: string): string[] {
  return existsSync(file) ? parseApiKeys(readFileSync(file, 'utf8')) : [];
}

/** Replaces the file at once (a temporary file beside it, renamed), one key a line, readable by its owner only. */
export function writeKeyFile(file: string, keys: string[]): void {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, `# dcr-bridge API keys (DCR_BRIDGE_API_KEYS_FILE), written by dcr-bridge konnect\n${keys.join('\n')}\n`, {
    mode: 0o600,
  });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/**
 * Whether the bridge at `dcrBaseUrl` accepts `key`: an event hook for no client with an empty body is answered
 * 401 when the key is refused and 400 when it is accepted (the key is checked before the body), without any
 * IdP call.
 */
export async function bridgeAcceptsKey(dcrBaseUrl: string, key: string, timeoutMs: number): Promise<boolean | undefined> {
  try {
    const res = await fetch(`${dcrBaseUrl.replace(/\/+$/, '')}/dcr-bridge-key-check/event-hook`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.status === 401) return false;
    return res.status === 400 ? true : undefined;
  } catch {
    return undefined;
  }
}
