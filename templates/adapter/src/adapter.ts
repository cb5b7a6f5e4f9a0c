import { BridgeError, createIdpHttpClient, silentLogger, type DcrAdapter, type Logger } from '@dcr-bridge/core';

// Scaffolding from templates/adapter: CONTRIBUTING.md lists what to replace. Every method below answers
// `unsupported_operation` until it is written, so the package is never mistaken for a working adapter.

export interface __PASCAL__AdapterOptions {
  /** Base URL of __DISPLAY__'s admin API. */
  baseUrl: string;
  fetch?: typeof fetch;
  logger?: Logger;
  timeoutMs?: number;
}

export function create__PASCAL__Adapter(options: __PASCAL__AdapterOptions): DcrAdapter {
  const logger = options.logger ?? silentLogger;
  const http = createIdpHttpClient({ idpName: '__DISPLAY__', baseUrl: options.baseUrl, fetch: options.fetch, logger, timeoutMs: options.timeoutMs });
  const notYet = (operation: string) => new BridgeError('unsupported_operation', `The __ID__ adapter does not implement ${operation} yet.`);

  return {
    id: '__ID__',
    capabilities: { rotateSecret: false, updateRedirectUris: false, audienceRegistrations: false },
    async createClient() {
      throw notYet('createClient');
    },
    async deleteClient() {
      throw notYet('deleteClient');
    },
    checkReady: (context) => http.probe('/', 'reaching __DISPLAY__', { signal: context.signal }),
  };
}
