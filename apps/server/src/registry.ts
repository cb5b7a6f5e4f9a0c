import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAdapterModule, type AdapterModule } from '@dcr-bridge/core';

/**
 * Adapter id → package. The server imports the package only when it is chosen, so an unused adapter's
 * SDK is never loaded. Any other value of DCR_BRIDGE_ADAPTER that looks like a module specifier is
 * imported as a third-party adapter package; it must export `dcrBridgeAdapter` like ours do.
 */
export const KNOWN_ADAPTERS: Readonly<Record<string, string>> = {
  rfc7591: '@dcr-bridge/adapter-rfc7591',
  cognito: '@dcr-bridge/adapter-cognito',
  keycloak: '@dcr-bridge/adapter-keycloak',
  okta: '@dcr-bridge/adapter-okta',
  pingfederate: '@dcr-bridge/adapter-pingfederate',
  pingone: '@dcr-bridge/adapter-pingone',
};

/** `@scope/pkg`, `pkg-name/sub`, `./local.js`, `/abs/path.js`, `file:…` — but not a bare word like `keycloak2`. */
function isModuleSpecifier(value: string): boolean {
  return /^(@[^/]+\/|\.{0,2}\/|file:)/.test(value) || /^[a-z0-9][\w.-]*-[\w.-]*(\/.*)?$/.test(value) || value.includes('/');
}

/**
 * Whether the import failed because the adapter module itself is missing, rather than something it imports
 * (a dependency not installed, a syntax error): Node names the module it could not find.
 */
function isMissing(specifier: string, error: unknown): boolean {
  if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') return false;
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec((error as Error).message)?.[1];
  if (missing === undefined) return false;
  if (specifier.startsWith('file:')) return missing === specifier || missing === fileURLToPath(specifier);
  return specifier === missing || specifier.startsWith(`${missing}/`);
}

export type AdapterLookup = { module: AdapterModule } | { problem: string };

export async function loadAdapterModule(choice: string, cwd: string = process.cwd()): Promise<AdapterLookup> {
  const known = KNOWN_ADAPTERS[choice];
  if (!known && !isModuleSpecifier(choice)) {
    return { problem: `DCR_BRIDGE_ADAPTER "${choice}" is not a known adapter (${Object.keys(KNOWN_ADAPTERS).join(', ')}) nor a module specifier of an adapter package.` };
  }
  // A path is the operator's, relative to the working directory (not to this file); a package name resolves as usual.
  const specifier = known ?? (/^\.{1,2}\/|^\//.test(choice) ? pathToFileURL(resolve(cwd, choice)).href : choice);
  let imported: Record<string, unknown>;
  try {
    imported = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const reason = isMissing(specifier, error) ? 'it is not installed' : `it is there but failed to load: ${(error as Error).message.split('\n')[0]}`;
    return { problem: `DCR_BRIDGE_ADAPTER "${choice}": ${specifier} could not be loaded (${reason}). Known adapters: ${Object.keys(KNOWN_ADAPTERS).join(', ')}.` };
  }
  const module = imported.dcrBridgeAdapter;
  if (!isAdapterModule(module)) {
    return { problem: `DCR_BRIDGE_ADAPTER "${choice}": ${specifier} does not export dcrBridgeAdapter ({ id, readOptions, create }) as a dcr-bridge adapter package must.` };
  }
  return { module };
}
