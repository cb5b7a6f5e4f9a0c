import { randomUUID } from 'node:crypto';

/**
 * `dcr-bridge verify`: plays Konnect against any DCR bridge, over HTTP only, and checks each answer
 * against Konnect's contract (Kong's konnect-portal-dcr-handler openapi.yaml). Client secrets are held
 * in memory to compare them and are never part of the report.
 */
export interface VerifyOptions {
  /** The bridge's base URL: the dcr_base_url of the DCR provider in Konnect. */
  url: string;
  apiKey: string;
  lifecycle: boolean;
  timeoutMs: number;
}

export interface VerifyStep {
  name: string;
  result: 'pass' | 'fail' | 'skip';
  method: string;
  path: string;
  /** The HTTP status, or null when no answer came. */
  status: number | null;
  expected: string;
  ms: number;
  /** Why the check failed or was skipped; never holds a secret. */
  detail?: string;
}

export interface VerifyReport {
  url: string;
  lifecycle: boolean;
  ok: boolean;
  steps: VerifyStep[];
}

interface Answer {
  status: number | null;
  body: unknown;
  ms: number;
  /** Set when no answer came (refused, reset, timed out) or the body is not JSON where JSON is due. */
  problem?: string;
}

export async function verifyBridge(options: VerifyOptions): Promise<VerifyReport> {
  const base = options.url.replace(/\/+$/, '');
  const steps: VerifyStep[] = [];
  const call = (method: string, path: string, body: unknown, withKey = true) =>
    request(base, method, path, body, withKey ? options.apiKey : undefined, options.timeoutMs);
  const step = (name: string, method: string, path: string, expected: string, answer: Answer, detail: string | undefined) => {
    steps.push({
      name,
      result: detail === undefined ? 'pass' : 'fail',
      method,
      path,
      status: answer.status,
      expected,
      ms: answer.ms,
      ...(detail === undefined ? {} : { detail }),
    });
  };
  const skip = (name: string, method: string, path: string, expected: string, detail: string) => {
    steps.push({ name, result: 'skip', method, path, status: null, expected, ms: 0, detail });
  };

  // 1. What the "Verify" button of a DCR provider sends: a real create, with a portal_id that is not a UUID.
  const createExpected = '201, JSON with client_id and client_secret strings';
  const created = await call('POST', '/', verifyApplication());
  step('create', 'POST', '/', createExpected, created, checkCredentials(created, 201));
  const clientId = credentials(created)?.clientId;
  const firstSecret = credentials(created)?.clientSecret;
  const clientPath = `/${encodeURIComponent(clientId ?? '')}`;
  // The report names the path as the contract does: a client_id is printed only when it is left behind.
  const shown = '/{clientId}';
  const unusable = 'the create gave no client_id';

  if (options.lifecycle) {
    const expected = '200, JSON with the same client_id and a new client_secret';
    if (clientId === undefined) skip('new-secret', 'POST', `${shown}/new-secret`, expected, unusable);
    else {
      const rotated = await call('POST', `${clientPath}/new-secret`, undefined);
      const detail = checkCredentials(rotated, 200) ?? checkRotation(credentials(rotated)!, clientId, firstSecret!);
      step('new-secret', 'POST', `${shown}/new-secret`, expected, rotated, detail);
    }

    const hookExpected = '200';
    if (clientId === undefined) skip('event-hook', 'POST', `${shown}/event-hook`, hookExpected, unusable);
    else {
      const hooked = await call('POST', `${clientPath}/event-hook`, updateApplicationEvent(clientId));
      step('event-hook', 'POST', `${shown}/event-hook`, `${hookExpected} to update_application`, hooked, checkStatus(hooked, 200));
    }
  }

  const deleteExpected = '204';
  if (clientId === undefined) skip('delete', 'DELETE', shown, deleteExpected, unusable);
  else {
    const deleted = await call('DELETE', clientPath, undefined);
    const detail = checkStatus(deleted, 204);
    step(
      'delete',
      'DELETE',
      shown,
      deleteExpected,
      deleted,
      detail === undefined ? undefined : `${detail}; the client may still exist in the IdP: client_id ${clientId}`,
    );
  }

  if (options.lifecycle) {
    // Konnect reads any non-2xx as a failure shown to the developer: a delete it repeats must answer 204 again.
    const againExpected = '204 (a repeated delete is done, not an error)';
    if (clientId === undefined) skip('delete-again', 'DELETE', shown, againExpected, unusable);
    else {
      const again = await call('DELETE', clientPath, undefined);
      step('delete-again', 'DELETE', shown, againExpected, again, checkStatus(again, 204));
    }

    const refusedExpected = '401, JSON with error and error_description';
    const refused = await call('POST', '/', verifyApplication(), false);
    const detail = checkStatus(refused, 401) ?? checkErrorBody(refused);
    const stray = credentials(refused)?.clientId;
    if (stray === undefined) step('no-api-key', 'POST', '/', refusedExpected, refused, detail);
    else {
      // The bridge created a client for a caller without a key: undo it with the key.
      const cleanup = await call('DELETE', `/${encodeURIComponent(stray)}`, undefined);
      const undone =
        cleanup.status === 204
          ? 'the client it created was deleted'
          : `deleting the client it created failed (${cleanup.status ?? cleanup.problem}): client_id ${stray}`;
      step('no-api-key', 'POST', '/', refusedExpected, refused, `${detail}; ${undone}`);
    }
  }

  return { url: options.url, lifecycle: options.lifecycle, ok: steps.every((s) => s.result === 'pass'), steps };
}

/** The human report: one line per step, then a summary line. */
export function formatReport(report: VerifyReport): string {
  const width = Math.max(...report.steps.map((s) => s.name.length));
  const lines = report.steps.map((s) => {
    const status = s.status === null ? '---' : String(s.status);
    const line = `${s.result.toUpperCase().padEnd(4)}  ${s.name.padEnd(width)}  ${s.method} ${s.path}  ${status}  expected ${s.expected}  ${s.ms} ms`;
    return s.detail === undefined ? line : `${line}\n      ${s.detail}`;
  });
  const failed = report.steps.filter((s) => s.result !== 'pass').length;
  const summary = failed === 0 ? `All ${report.steps.length} checks passed.` : `${failed} of ${report.steps.length} checks did not pass.`;
  return `dcr-bridge verify ${report.url}${report.lifecycle ? ' --lifecycle' : ''}\n${lines.join('\n')}\n${summary}\n`;
}

async function request(
  base: string,
  method: string,
  path: string,
  body: unknown,
  apiKey: string | undefined,
  timeoutMs: number,
): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey !== undefined) headers['x-api-key'] = apiKey;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (text === '') return { status: res.status, body: undefined, ms: elapsed() };
    try {
      return { status: res.status, body: JSON.parse(text) as unknown, ms: elapsed() };
    } catch {
      return { status: res.status, body: undefined, ms: elapsed(), problem: 'the body is not JSON' };
    }
  } catch (error) {
    const ms = elapsed();
    if ((error as Error).name === 'TimeoutError') return { status: null, body: undefined, ms, problem: `no answer within ${timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { status: null, body: undefined, ms, problem: `no answer: ${cause?.code ?? cause?.message ?? (error as Error).message}` };
  }
}

/** Undefined when the status is the one expected; else what went wrong, with the bridge's error fields. */
function checkStatus(answer: Answer, expected: number): string | undefined {
  if (answer.status === null) return answer.problem;
  if (answer.status === expected) return undefined;
  const body = answer.body as { error?: unknown; error_description?: unknown } | undefined;
  const said = [body?.error, body?.error_description].filter((part): part is string => typeof part === 'string').join(': ');
  return `answered ${answer.status} instead of ${expected}${said ? ` (${truncate(said)})` : ''}`;
}

function checkCredentials(answer: Answer, expected: number): string | undefined {
  const wrong = checkStatus(answer, expected);
  if (wrong !== undefined) return wrong;
  if (answer.problem) return answer.problem;
  const body = answer.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const fields = body as Record<string, unknown>;
  for (const name of ['client_id', 'client_secret']) {
    if (!(name in fields)) return `${name} is missing${'application' in fields ? ' (the body nests the client under "application")' : ''}`;
    if (typeof fields[name] !== 'string' || fields[name] === '') return `${name} is not a non-empty string`;
  }
  for (const name of ['client_id_issued_at', 'client_secret_expires_at']) {
    if (name in fields && (typeof fields[name] !== 'string' || Number.isNaN(Date.parse(fields[name]))))
      return `${name} is not an ISO 8601 date-time`;
  }
  return undefined;
}

function checkRotation(rotated: { clientId: string; clientSecret: string }, clientId: string, previousSecret: string): string | undefined {
  if (rotated.clientId !== clientId) return 'client_id differs from the one the create gave';
  if (rotated.clientSecret === previousSecret) return 'client_secret is the same as before';
  return undefined;
}

function checkErrorBody(answer: Answer): string | undefined {
  const body = answer.body as { error?: unknown; error_description?: unknown } | undefined;
  if (typeof body?.error !== 'string' || typeof body.error_description !== 'string')
    return 'the body lacks the error and error_description strings';
  return undefined;
}

function credentials(answer: Answer): { clientId: string; clientSecret: string } | undefined {
  const body = answer.body as { client_id?: unknown; client_secret?: unknown } | undefined;
  if (answer.status === null || answer.status < 200 || answer.status > 299) return undefined;
  if (typeof body?.client_id !== 'string' || body.client_id === '') return undefined;
  return { clientId: body.client_id, clientSecret: typeof body.client_secret === 'string' ? body.client_secret : '' };
}

/** Konnect's Verify call: every field of a create, with client_name and portal_id as Konnect sends them. */
function verifyApplication(): Record<string, unknown> {
  return {
    client_name: 'test application',
    application_description: 'Sent by dcr-bridge verify',
    redirect_uris: ['https://example.com/callback'],
    grant_types: ['client_credentials'],
    scopes: [],
    token_endpoint_auth_method: 'client_secret_post',
    portal_id: 'test portal_id',
    organization_id: randomUUID(),
    developer_id: randomUUID(),
    auth_strategy_id: randomUUID(),
    dcr_provider_id: randomUUID(),
  };
}

function updateApplicationEvent(clientId: string): Record<string, unknown> {
  return {
    event_type: 'update_application',
    client_id: clientId,
    application_id: randomUUID(),
    application_name: 'test application',
    application_description: 'Sent by dcr-bridge verify',
    portal_id: randomUUID(),
    organization_id: randomUUID(),
    developer_id: randomUUID(),
    auth_strategy_id: randomUUID(),
    dcr_provider_id: randomUUID(),
    redirect_uris: ['https://example.com/callback/updated'],
  };
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
