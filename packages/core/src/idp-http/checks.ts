import type { DiagnosticCheck, ReadinessReport } from '../contract.js';
import { notReady, type BridgeError } from '../errors.js';
import type { IdpRequest } from './request.js';
import type { IdpTarget } from './target.js';
import type { IdpRequestOptions, IdpResponse } from './types.js';

/** The answers built on one GET that adapters ask the IdP client for: a lookup, a readiness probe, a doctor's check. */
export interface IdpChecks {
  /** GET whose 404 means "not there": the body, or undefined. Any other failure throws. */
  find<T = unknown>(target: IdpTarget, action: string, options?: IdpRequestOptions): Promise<T | undefined>;
  /** A readiness report from one cheap GET (admin credentials accepted, IdP answering). Never throws. */
  probe(target: IdpTarget, action: string, options?: IdpRequestOptions): Promise<ReadinessReport>;
  /**
   * A doctor's permission check from one GET: `pass` on 2xx; on 401/403 `fail` with `fix` (what to grant);
   * otherwise `fail` with the status and the IdP's words (redacted). Never throws.
   */
  checkAccess(target: IdpTarget, check: { name: string; fix: string }, options?: IdpRequestOptions): Promise<DiagnosticCheck>;
}

/** The checks, each one GET sent by `request`; an answer they did not want is explained by `errorFromResponse`. */
export function createChecks(request: IdpRequest, errorFromResponse: (response: IdpResponse, action: string) => BridgeError): IdpChecks {
  async function find<T>(target: IdpTarget, action: string, requestOptions?: IdpRequestOptions): Promise<T | undefined> {
    const response = await request<T>('GET', target, requestOptions);
    if (response.status === 404) return undefined;
    if (!response.ok) throw errorFromResponse(response, action);
    return response.body;
  }

  async function probe(target: IdpTarget, action: string, requestOptions?: IdpRequestOptions): Promise<ReadinessReport> {
    try {
      const response = await request('GET', target, requestOptions);
      if (response.ok) return { ready: true };
      const refused = errorFromResponse(response, action);
      return { ready: false, detail: refused.message, reason: refused.code };
    } catch (error) {
      return notReady(error);
    }
  }

  async function checkAccess(
    target: IdpTarget,
    check: { name: string; fix: string },
    requestOptions?: IdpRequestOptions,
  ): Promise<DiagnosticCheck> {
    try {
      const response = await request('GET', target, requestOptions);
      if (response.ok) return { name: check.name, result: 'pass', detail: `GET answered ${response.status}` };
      const refused = response.status === 401 || response.status === 403;
      return {
        name: check.name,
        result: 'fail',
        detail: errorFromResponse(response, check.name).message,
        ...(refused ? { fix: check.fix } : {}),
      };
    } catch (error) {
      return { name: check.name, result: 'fail', detail: notReady(error).detail };
    }
  }

  return { find, probe, checkAccess };
}
