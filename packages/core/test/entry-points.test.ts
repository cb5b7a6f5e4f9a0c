import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Core's three entry points (see the README, "Entry points"): what each loads when it is imported, and the
 * values each exports (every one is semver surface: a new one is a decision, not an accident).
 */
const src = join(import.meta.dirname, '..', 'src');

/** The package's compiler options (verbatimModuleSyntax decides which imports survive), emitting ES modules. */
const compilerOptions = (() => {
  const configFile = join(import.meta.dirname, '..', 'tsconfig.build.json');
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configFile));
  return { ...options, module: ts.ModuleKind.ESNext, sourceMap: false, declaration: false };
})();

/**
 * The third-party packages that load when `entry` is imported: the static imports and re-exports of the
 * JavaScript the compiler emits (type-only imports are gone from it), followed through core's own files.
 * Dynamic `import()` is not followed: it loads only when the code that holds it runs.
 */
function packagesLoadedBy(entry: string): string[] {
  const packages = new Set<string>();
  const visited = new Set<string>();
  const visit = (file: string) => {
    if (visited.has(file)) return;
    visited.add(file);
    const emitted = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file }).outputText;
    for (const statement of ts.createSourceFile(file, emitted, ts.ScriptTarget.ES2022).statements) {
      if (!(ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) || !statement.moduleSpecifier) continue;
      const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:'))
        packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string));
    }
  };
  visit(join(src, entry));
  return [...packages].sort();
}

describe('what each entry point loads at import', () => {
  it('@dcr-bridge/core loads only valibot (the settings schemas): no web framework, HTTP client, OAuth or JOSE library', () => {
    expect(packagesLoadedBy('index.ts')).toEqual(['valibot']);
  });

  it('@dcr-bridge/core/idp loads only @opentelemetry/api (undici and openid-client load with the first request)', () => {
    expect(packagesLoadedBy('idp.ts')).toEqual(['@opentelemetry/api']);
  });

  it('@dcr-bridge/core/http is the one that loads Express', () => {
    expect(packagesLoadedBy('http.ts')).toEqual(['@opentelemetry/api', 'express']);
  });

  it('follows type-only imports out and value imports in', () => {
    // token-provider.ts imports openid-client and undici for types only, store.ts loads jose with import().
    expect(packagesLoadedBy('token-provider.ts')).toEqual(['@opentelemetry/api']);
    expect(packagesLoadedBy('store.ts')).toEqual([]);
    expect(packagesLoadedBy('http/app.ts')).toContain('express');
  });
});

describe('the values each entry point exports', () => {
  it('@dcr-bridge/core: the contract, errors, lifecycle, adapter module, settings, naming, logger and stores', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'BridgeError',
      'COMMON_ADAPTER_SETTINGS',
      'INSECURE_HTTP',
      'JOURNAL_PREFIX',
      'OAUTH_GRANT_TYPES',
      'RESTORE_PREFIX',
      'ROTATION_PREFIX',
      'compareCodePoints',
      'createEncryptedStore',
      'createJsonStore',
      'createMemoryDriver',
      'defineAdapterSettings',
      'defineDcrAdapter',
      'defineSettings',
      'generateSecret',
      'hasOwnershipMarkerLine',
      'isAdapterModule',
      'isBridgeError',
      'lifecycleSettings',
      'notReady',
      'ownershipMarkerLine',
      'parseDuration',
      'parseStoreKey',
      'prefixUpperBound',
      'readAdapterOptions',
      'readSettings',
      'rotationMode',
      'setting',
      'settingName',
      'settingNamesOf',
      'silentLogger',
      'uniqueName',
    ]);
  });

  it('@dcr-bridge/core/idp: the IdP HTTP client, admin tokens and retries', async () => {
    expect(Object.keys(await import('../src/idp.js')).sort()).toEqual([
      'basicAuthorization',
      'bearerAuthorization',
      'createClientCredentialsTokenProvider',
      'createIdpHttpClient',
      'fetchVia',
      'parseRetryAfter',
      'path',
      'staticAuthorization',
      'tokenRefusal',
      'withRetries',
    ]);
  });

  it('@dcr-bridge/core/http: the Express app and what the process around it uses', async () => {
    expect(Object.keys(await import('../src/http.js')).sort()).toEqual([
      'CHANNELS',
      'REDACTED',
      'answerClientError',
      'apiKeyProblem',
      'bindingLogger',
      'completionBudgetMs',
      'createBridgeApp',
      'createJsonLogger',
      'generateApiKey',
      'isLogLevel',
      'isSecretKey',
      'parseRegistration',
      'redact',
      'redactText',
    ]);
  });
});
