import type { Response } from 'express';
import type { ClientEvent, DcrAdapter } from '../contract.js';
import { isBridgeError } from '../errors.js';
import { publish, secondsSince } from '../instrumentation.js';
import type { Logger } from '../logger.js';
import { invokeAdapter } from './invoke.js';
import { scope, type RequestScope } from './request-scope.js';

/**
 * # Adapter calls for Konnect's operations, audited
 *
 * Each operation a handler runs goes through `invokeAdapter` (deadline, completion budget, error wrapping) with
 * the request's scope, and ends in one `audit` line and the same operation on the instrumentation channel.
 */
export interface AdapterCallsOptions {
  adapter: DcrAdapter;
  logger: Logger;
  /** When the answer to Konnect is due. */
  timeoutMs: number;
  /** How long IdP work already under way may go on after the answer was due (see invokeAdapter). */
  completionTimeoutMs?: number;
}

export interface AdapterCalls {
  /**
   * Runs one adapter operation for a Konnect call and writes its `audit` line once it is done: operation,
   * outcome, the IdP client id, the Konnect ids that came with the call, the request id and the duration.
   */
  call<T>(
    res: Response,
    operation: string,
    subject: AuditSubject,
    run: Parameters<typeof invokeAdapter<T>>[1],
    clientIdOf?: (result: T) => string,
  ): Promise<T>;
  /** The audit line, and the same operation on the instrumentation channel (for metrics: no ids there). */
  audit(requestScope: RequestScope, operation: string, outcome: string, subject: AuditSubject, started: number, status: number): void;
}

export function createAdapterCalls(options: AdapterCallsOptions): AdapterCalls {
  const { adapter, logger, timeoutMs } = options;

  const call = async <T>(
    res: Response,
    operation: string,
    subject: AuditSubject,
    run: Parameters<typeof invokeAdapter<T>>[1],
    clientIdOf?: (result: T) => string,
  ): Promise<T> => {
    const requestScope = scope(res);
    requestScope.deadline = new AbortController();
    const started = performance.now();
    try {
      const result = await invoke(requestScope, operation, run);
      audit(
        requestScope,
        operation,
        'success',
        { ...subject, clientId: clientIdOf ? clientIdOf(result) : subject.clientId },
        started,
        SUCCESS_STATUS[operation] ?? 200,
      );
      return result;
    } catch (error) {
      audit(
        requestScope,
        operation,
        isBridgeError(error) ? error.code : 'internal_error',
        subject,
        started,
        isBridgeError(error) ? error.status : 500,
      );
      throw error;
    }
  };

  const audit = (
    requestScope: RequestScope,
    operation: string,
    outcome: string,
    subject: AuditSubject,
    started: number,
    status: number,
  ) => {
    logger.info('audit', {
      requestId: requestScope.requestId,
      operation,
      outcome,
      clientId: subject.clientId,
      ...subject.konnect,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
    publish.operation({ operation, adapter: adapter.id, outcome, status, seconds: secondsSince(started) });
  };

  const invoke = <T>(requestScope: RequestScope, operation: string, run: Parameters<typeof invokeAdapter<T>>[1]) =>
    invokeAdapter(
      {
        adapter,
        operation,
        logger: logger.child({ requestId: requestScope.requestId }),
        requestId: requestScope.requestId,
        traceContext: requestScope.traceContext,
        timeoutMs,
        completionTimeoutMs: options.completionTimeoutMs,
        deadline: requestScope.deadline,
        answer: requestScope.answer,
      },
      run,
    );

  return { call, audit };
}

const SUCCESS_STATUS: Record<string, number> = { createClient: 201, deleteClient: 204 };

/** What an audit line says the operation was about, besides its outcome. */
export interface AuditSubject {
  clientId?: string;
  konnect?: { portalId: string; organizationId: string; developerId: string; applicationId?: string };
}

export function eventReferences(event: ClientEvent): NonNullable<AuditSubject['konnect']> {
  const { portalId, organizationId, developerId, applicationId } = event.application;
  return { portalId, organizationId, developerId, applicationId };
}
