import { silentLogger, type DcrAdapter, type DiagnosticCheck, type OperationContext } from '@dcr-bridge/core';
import { parseRegistration, redactText } from '@dcr-bridge/core/http';

/**
 * The write test of `dcr-bridge doctor --write-test` and of the canary: a marked probe client created, a token
 * fetched with it, its secret rotated (the new secret works, the old one is refused, or works within the
 * overlap), and deleted whatever fails. Every step is a check; nothing here logs a secret.
 */
export const PROBE_NAME = 'dcr-bridge doctor probe';

export interface ProbeOptions {
  /** Budget of each step. */
  timeoutMs: number;
  /** Scopes the probe asks for (an IdP that wants one). */
  probeScopes: string[];
}

/** Create → token → rotate → old refused, new accepted → delete → refused. The probe is deleted whatever fails. */
export async function writeTest(adapter: DcrAdapter, tokenEndpoint: string, options: ProbeOptions): Promise<DiagnosticCheck[]> {
  const { timeoutMs } = options;
  const checks: DiagnosticCheck[] = [];
  let clientId: string | undefined;
  try {
    const created = await adapter.createClient(probeRegistration(options.probeScopes), context(timeoutMs));
    clientId = created.clientId;
    checks.push({ name: 'create a probe client', result: 'pass', detail: `client ${clientId}` });
    const token = (clientSecret: string): TokenRequest => ({
      tokenEndpoint,
      clientId: created.clientId,
      clientSecret,
      scopes: options.probeScopes,
      timeoutMs,
    });
    checks.push(await tokenCheck('the probe gets a token', token(created.clientSecret), true));
    if (!adapter.rotateSecret) {
      checks.push({ name: 'rotate its secret', result: 'skip', detail: `the ${adapter.id} adapter cannot rotate secrets` });
    } else {
      const rotated = await adapter.rotateSecret(clientId, context(timeoutMs));
      checks.push({ name: 'rotate its secret', result: 'pass' });
      checks.push(await tokenCheck('the new secret gets a token', token(rotated.clientSecret), true));
      // The old secret is retired once the answer was taken (two-secrets): the token check waits a few seconds for it.
      const overlapMs = adapter.rotation?.overlapMs ?? 0;
      checks.push(
        overlapMs > 0
          ? await tokenCheck(`the old secret still works (the overlap of ${overlapMs} ms)`, token(created.clientSecret), true)
          : await tokenCheck('the old secret is refused', token(created.clientSecret), false),
      );
    }
  } catch (error) {
    const refusedScope = (error as { code?: string }).code === 'invalid_scope';
    checks.push({
      name: clientId === undefined ? 'create a probe client' : 'rotate its secret',
      result: 'fail',
      detail: messageOf(error),
      fix: refusedScope
        ? 'the IdP wants a scope it knows: run again with --scope <a scope the IdP has>'
        : 'the admin credentials lack a write permission, or the IdP refused the probe: see the detail',
    });
  } finally {
    if (clientId !== undefined) {
      try {
        await adapter.deleteClient(clientId, context(timeoutMs));
        checks.push({ name: 'delete the probe client', result: 'pass' });
      } catch (error) {
        checks.push({
          name: 'delete the probe client',
          result: 'fail',
          detail: messageOf(error),
          fix: `delete client ${clientId} (named "${PROBE_NAME} …") at the IdP by hand, and grant the permission to delete clients`,
        });
      }
    }
  }
  return checks;
}

/**
 * A client_credentials token request with the probe's credentials (client_secret_post, as the probe was
 * registered; client_secret_basic when the IdP refuses the first). An IdP may take a moment to apply a new or
 * revoked secret everywhere, so the expected outcome is awaited for a few seconds.
 */
interface TokenRequest {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  /** Sent as `scope` when not empty (an authorization server without a default scope refuses a request without one). */
  scopes: string[];
  timeoutMs: number;
}

async function tokenCheck(name: string, request: TokenRequest, accepted: boolean): Promise<DiagnosticCheck> {
  const { tokenEndpoint, timeoutMs } = request;
  const until = Date.now() + Math.min(timeoutMs, 10_000);
  let last = '';
  for (;;) {
    try {
      const status = await requestToken(request);
      last = `token endpoint answered ${status}`;
      if ((status === 200) === accepted) return { name, result: 'pass', detail: last };
    } catch (error) {
      last = messageOf(error);
    }
    if (Date.now() >= until) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return {
    name,
    result: 'fail',
    detail: last,
    fix: accepted
      ? `the IdP does not issue tokens to the clients the bridge creates at ${tokenEndpoint}: check that the client_credentials grant is allowed there`
      : 'a rotated secret still gets tokens: the IdP keeps old secrets valid; check its secret rotation settings',
  };
}

async function requestToken({ tokenEndpoint, clientId, clientSecret, scopes, timeoutMs }: TokenRequest): Promise<number> {
  const scope: Record<string, string> = scopes.length > 0 ? { scope: scopes.join(' ') } : {};
  const post = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, ...scope }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await post.body?.cancel();
  if (post.status === 200 || (post.status !== 400 && post.status !== 401)) return post.status;
  const basic = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...scope }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await basic.body?.cancel();
  return basic.status;
}

function probeRegistration(scopes: string[]) {
  return parseRegistration({
    client_name: PROBE_NAME,
    application_description: 'Created by dcr-bridge doctor --write-test or the canary, and deleted at once.',
    redirect_uris: ['https://doctor.dcr-bridge.invalid/callback'],
    grant_types: ['client_credentials'],
    scopes,
    token_endpoint_auth_method: 'client_secret_post',
    // Konnect's references, required in every create: the doctor's own, so the audit line names it.
    portal_id: 'dcr-bridge-doctor',
    organization_id: 'dcr-bridge-doctor',
    developer_id: 'dcr-bridge-doctor',
    auth_strategy_id: 'dcr-bridge-doctor',
    dcr_provider_id: 'dcr-bridge-doctor',
  });
}

export function context(timeoutMs: number): OperationContext {
  const signal = AbortSignal.timeout(timeoutMs);
  return { signal, deadline: signal, answered: Promise.resolve(true), logger: silentLogger, requestId: 'dcr-bridge-doctor' };
}

export function messageOf(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error));
}
