import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

/**
 * The User-Agent of every IdP request (the HTTP client's and the admin token requests): `dcr-bridge/<version
 * of @dcr-bridge/core> (<adapter id>)`, so that an IdP's access log tells the bridge's calls apart and names
 * the adapter. The adapter is the client's `adapterId` option, or the one whose operation is under way (core
 * runs every adapter call in `inAdapterScope`, and IdP work an operation leaves in the background keeps it).
 */
const adapterScope = new AsyncLocalStorage<string>();

/** Runs `work` as the adapter `adapterId`'s: IdP requests it makes name that adapter in their User-Agent. */
export function inAdapterScope<T>(adapterId: string, work: () => T): T {
  return adapterScope.run(adapterId, work);
}

let version: string | undefined;

/** core's version, read once from its package.json at the first IdP request (nothing is read at import). */
function coreVersion(): string {
  if (version === undefined) {
    try {
      // src/ and dist/ both sit next to package.json, which every install of the package holds. Bundled, the file
      // there may be another package's or none: then the version is `unknown`.
      const read = createRequire(import.meta.url)('../package.json') as { name?: unknown; version?: unknown };
      version = read.name === '@dcr-bridge/core' && typeof read.version === 'string' && read.version !== '' ? read.version : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

/** `dcr-bridge/<version> (<adapter>)`, or `dcr-bridge/<version>` when no adapter is known. */
export function userAgent(adapterId?: string): string {
  const adapter = (adapterId ?? adapterScope.getStore())?.replace(/[^\x20-\x7e]|[()\\]/g, '');
  return `dcr-bridge/${coreVersion()}${adapter ? ` (${adapter})` : ''}`;
}
