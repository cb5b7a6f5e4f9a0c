import { lookup } from 'node:dns/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type PeerCertificate } from 'node:tls';
import { type AdapterDiagnostics, type DcrAdapter, type DiagnosticCheck, type IdpVersion } from '@dcr-bridge/core';
import { redactText } from '@dcr-bridge/core/http';
import { loadConfig, type ServerConfig } from '../config.js';
import { context, messageOf, writeTest } from '../probe.js';

export { PROBE_NAME } from '../probe.js';

/**
 * `dcr-bridge doctor`: what would stop the bridge from serving Konnect, found before Konnect finds it.
 * Groups run in order, and a group whose ground is missing (no configuration, an unreachable IdP) leaves the
 * later ones as skipped rather than piling up consequences of the first problem:
 *
 * 1. configuration: loaded exactly as the server loads it, every problem listed;
 * 2. reachability of the adapter's admin URL: DNS, TCP, TLS (the certificate, its expiry), an HTTP answer;
 * 3. credentials: the adapter's credentials check (`checkCredentials`: each cause once, with its fix), else its
 *    readiness check; a failure here leaves the permissions and the write test skipped, not failing for the same cause;
 * 4. permissions: the adapter's read-only checks (`AdapterDiagnostics.checkPermissions`);
 * 5. with `writeTest`: a probe client created through the adapter (marked like every client the bridge
 *    makes), its credentials proven at the token endpoint, rotated (the old secret refused, the new one
 *    accepted), deleted (its secret refused). The probe is deleted whatever step fails.
 *
 * Read-only unless `writeTest`. Secrets never reach the report.
 */
export interface DoctorOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  writeTest: boolean;
  /** Scopes the write test's probe asks for (an IdP may refuse a client_credentials client without one: Cognito). */
  probeScopes: string[];
  /** Budget of each network step. */
  timeoutMs: number;
  /** Opens the configured adapter with its stores, as the server does (its journal in memory). */
  openAdapter(config: ServerConfig): Promise<{ adapter: DcrAdapter; close(): Promise<void> }>;
}

export type DoctorGroup = 'configuration' | 'reachability' | 'credentials' | 'permissions' | 'write test';

export interface DoctorCheck extends DiagnosticCheck {
  group: DoctorGroup;
}

export interface DoctorReport {
  adapter?: string;
  writeTest: boolean;
  ok: boolean;
  checks: DoctorCheck[];
}

/** The probe's name at the IdP starts with this (the adapter adds its nonce), so an operator can find a stray one. */

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const add = (group: DoctorGroup, check: DiagnosticCheck) => checks.push({ group, ...check });
  const report = (adapter?: string): DoctorReport => ({
    adapter,
    writeTest: options.writeTest,
    ok: checks.every((check) => check.result !== 'fail'),
    checks,
  });

  const loaded = await loadConfig(options.env, options.cwd);
  if (!loaded.config) {
    loaded.problems.forEach((problem) => add('configuration', { name: 'setting', result: 'fail', detail: problem }));
    return report();
  }
  const { config } = loaded;
  if (!config.adapter) {
    add('configuration', {
      name: 'adapter',
      result: 'skip',
      detail: 'DCR_BRIDGE_ADAPTER is not set: the server would start its embedded dev mode, with no IdP to check.',
    });
    return report();
  }
  const adapterId = config.adapter.module.id;
  add('configuration', { name: 'settings', result: 'pass', detail: `loaded as the server loads them; adapter ${adapterId}` });

  let opened: Awaited<ReturnType<DoctorOptions['openAdapter']>>;
  try {
    opened = await options.openAdapter(config);
  } catch (error) {
    add('configuration', { name: 'adapter', result: 'fail', detail: messageOf(error) });
    return report(adapterId);
  }
  add('configuration', { name: 'adapter', result: 'pass', detail: `${adapterId} created` });

  const { adapter } = opened;
  if (adapter.rotation) add('configuration', { name: 'rotation', result: 'pass', detail: rotationDetail(adapter.rotation) });
  try {
    const diagnostics = adapter.diagnostics;
    if (diagnostics) {
      for (const check of await reachability(diagnostics.adminUrl, options.timeoutMs)) add('reachability', check);
    } else {
      add('reachability', {
        name: 'admin URL',
        result: 'skip',
        detail: `the ${adapterId} adapter does not name its admin URL (it has no diagnostics)`,
      });
    }
    if (diagnostics?.adminUrl.startsWith('http:'))
      add('reachability', {
        name: 'transport',
        result: 'warn',
        detail: `plain http, allowed by ${adapterId.toUpperCase()}_ALLOW_INSECURE_HTTP: admin credentials travel in clear; use https beyond this machine`,
      });
    if (checks.some((check) => check.group === 'reachability' && check.result === 'fail')) {
      skipRest(add, 'the IdP is not reachable', options.writeTest);
      return report(adapterId);
    }

    const credentials = diagnostics?.checkCredentials
      ? await diagnostics.checkCredentials(context(options.timeoutMs))
      : [await readinessCheck(adapter, adapterId, options.timeoutMs)];
    for (const check of credentials) add('credentials', check);
    const refused = credentials.find((check) => check.result === 'fail');
    if (refused) {
      skipRest(add, `not checked: it depends on "${refused.name}", which failed above`, options.writeTest, 'permissions');
      return report(adapterId);
    }

    if (diagnostics?.idpVersion) add('credentials', await versionCheck(diagnostics, options.timeoutMs));
    if (diagnostics) {
      for (const check of await diagnostics.checkPermissions(context(options.timeoutMs))) add('permissions', check);
    } else {
      add('permissions', { name: 'permissions', result: 'skip', detail: `the ${adapterId} adapter offers no permission checks` });
    }

    if (options.writeTest) {
      if (!diagnostics)
        add('write test', { name: 'write test', result: 'skip', detail: `the ${adapterId} adapter does not name its token endpoint` });
      else if (checks.some((check) => check.result === 'fail'))
        add('write test', { name: 'write test', result: 'skip', detail: 'not run: fix the failures above first' });
      else
        for (const check of await writeTest(adapter, await diagnostics.tokenEndpoint(context(options.timeoutMs)), options))
          add('write test', check);
    }
  } finally {
    await opened.close();
  }
  return report(adapterId);
}

/** The admin credentials as the adapter's readiness check sees them (for an adapter whose diagnostics do not check them). */
async function readinessCheck(adapter: DcrAdapter, adapterId: string, timeoutMs: number): Promise<DiagnosticCheck> {
  const ready = await adapter.checkReady(context(timeoutMs));
  if (ready.ready || ready.missingPermissions)
    return {
      name: 'admin credentials',
      result: 'pass',
      detail: ready.ready ? 'the readiness check passed' : 'accepted (a permission is missing: see permissions)',
    };
  return {
    name: 'admin credentials',
    result: 'fail',
    detail: ready.detail ?? ready.reason,
    fix:
      ready.reason === 'idp_error'
        ? `the IdP refused the admin credentials or a permission: check the ${adapterId} credential settings and the roles they carry`
        : 'see the detail',
  };
}

/** The IdP's product and version, and whether the adapter supports it (a warning outside its range). */
async function versionCheck(diagnostics: AdapterDiagnostics, timeoutMs: number): Promise<DiagnosticCheck> {
  try {
    const found = (await diagnostics.idpVersion?.(context(timeoutMs))) as IdpVersion;
    const named = `${found.product} ${found.version ?? '(version not told)'}${found.detail ? `, ${found.detail}` : ''}; supported: ${found.supported}`;
    return found.withinSupported === false
      ? {
          name: 'IdP version',
          result: 'warn',
          detail: named,
          fix: `the adapter is not tested against this version: run dcr-bridge doctor --write-test, and see the adapter's README (Supported versions)`,
        }
      : { name: 'IdP version', result: 'pass', detail: named };
  } catch (error) {
    return { name: 'IdP version', result: 'skip', detail: `could not be read: ${messageOf(error)}` };
  }
}

/** What a rotation Konnect did not get leaves working, in an operator's words. */
function rotationDetail(rotation: NonNullable<DcrAdapter['rotation']>): string {
  const overlap = rotation.overlapMs > 0 ? `; old secrets keep working for ${rotation.overlapMs} ms after a rotation` : '';
  switch (rotation.mode) {
    case 'two-secrets':
      return `two secrets: the new secret is added and the old one retired once Konnect has the new one${overlap}`;
    case 'restore':
      return 'restore: the secret Konnect holds is put back when Konnect does not get the new one';
    case 'replace':
      return "neither: the IdP replaces the secret; a rotation Konnect does not get is logged at warn with the client id (Konnect's application then needs another rotation)";
  }
}

/** The groups from `from` on, skipped for `why`: what depends on a check that failed is not reported as failing too. */
function skipRest(
  add: (group: DoctorGroup, check: DiagnosticCheck) => void,
  why: string,
  writeTest: boolean,
  from: 'credentials' | 'permissions' = 'credentials',
): void {
  if (from === 'credentials') add('credentials', { name: 'admin credentials', result: 'skip', detail: why });
  add('permissions', { name: 'permissions', result: 'skip', detail: why });
  if (writeTest) add('write test', { name: 'write test', result: 'skip', detail: why });
}

/** DNS, TCP, TLS (https only) and one unauthenticated GET of the admin URL: any answer below 500 is a server answering. */
async function reachability(adminUrl: string, timeoutMs: number): Promise<DiagnosticCheck[]> {
  const url = new URL(adminUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const checks: DiagnosticCheck[] = [];
  try {
    const addresses = await lookup(host, { all: true });
    checks.push({ name: `DNS ${host}`, result: 'pass', detail: addresses.map((entry) => entry.address).join(', ') });
  } catch (error) {
    checks.push({
      name: `DNS ${host}`,
      result: 'fail',
      detail: messageOf(error),
      fix: `the host name does not resolve from here: check the IdP URL in the adapter's settings and this host's DNS`,
    });
    return checks;
  }
  const tcp = await connectOnce(() => connectTcp({ host, port }), timeoutMs);
  if (tcp !== undefined) {
    checks.push({
      name: `TCP ${host}:${port}`,
      result: 'fail',
      detail: tcp,
      fix: 'nothing accepts connections there: check the port in the IdP URL, and the firewalls and proxies between the bridge and the IdP',
    });
    return checks;
  }
  checks.push({ name: `TCP ${host}:${port}`, result: 'pass' });
  if (url.protocol === 'https:') {
    const tls = await tlsCheck(host, port, timeoutMs);
    checks.push(tls);
    if (tls.result === 'fail') return checks;
  }
  checks.push(await httpAnswer(adminUrl, timeoutMs));
  return checks;
}

/** Resolves undefined once connected, or the reason it could not. */
function connectOnce(open: () => Socket, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = open();
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(`no connection within ${timeoutMs} ms`);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(messageOf(error)));
  });
}

function tlsCheck(host: string, port: number, timeoutMs: number): Promise<DiagnosticCheck> {
  const name = `TLS ${host}:${port}`;
  return new Promise((resolve) => {
    const socket = connectTls({ host, port, servername: isIp(host) ? undefined : host, timeout: timeoutMs });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({
        name,
        result: 'fail',
        detail: `no TLS handshake within ${timeoutMs} ms`,
        fix: 'check that the port speaks TLS (https) and that no proxy intercepts it',
      });
    });
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      socket.destroy();
      resolve({ name, result: 'pass', detail: describeCertificate(certificate) });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve({ name, result: 'fail', detail: messageOf(error), fix: tlsFix(error.code) });
    });
  });
}

function tlsFix(code: string | undefined): string {
  if (code === 'CERT_HAS_EXPIRED') return "the IdP's certificate has expired: renew it at the IdP";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return 'the certificate does not name this host: use the host name the certificate was issued for in the IdP URL';
  if (code && /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return 'the certificate is signed by a CA this process does not trust: give the bridge that CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (never turn verification off)';
  }
  return 'check that the port speaks TLS (https) and that the IdP URL is right';
}

function describeCertificate(certificate: PeerCertificate): string {
  const daysLeft = Math.floor((Date.parse(certificate.valid_to) - Date.now()) / 86_400_000);
  return `certificate for ${certificate.subject?.CN ?? 'no CN'}, issued by ${certificate.issuer?.CN ?? certificate.issuer?.O ?? 'unknown'}, valid ${daysLeft} more days`;
}

async function httpAnswer(adminUrl: string, timeoutMs: number): Promise<DiagnosticCheck> {
  const name = `HTTP GET ${redactText(adminUrl)}`;
  try {
    const response = await fetch(adminUrl, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (response.status >= 500)
      return {
        name,
        result: 'fail',
        detail: `answered ${response.status}`,
        fix: 'the IdP answers with a server error: check its health and logs',
      };
    return { name, result: 'pass', detail: `answered ${response.status}` };
  } catch (error) {
    return { name, result: 'fail', detail: messageOf(error), fix: 'the IdP does not answer HTTP there: check the IdP URL and any proxy' };
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

const MARK: Record<DiagnosticCheck['result'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function formatDoctorReport(report: DoctorReport): string {
  const lines = [`dcr-bridge doctor${report.adapter ? ` (adapter ${report.adapter})` : ''}${report.writeTest ? ' --write-test' : ''}`];
  let group: DoctorGroup | undefined;
  for (const check of report.checks) {
    if (check.group !== group) {
      group = check.group;
      lines.push(`${group}:`);
    }
    lines.push(`  ${MARK[check.result]}  ${check.name}${check.detail ? ` — ${check.detail}` : ''}`);
    if ((check.result === 'fail' || check.result === 'warn') && check.fix) lines.push(`        fix: ${check.fix}`);
  }
  const failed = report.checks.filter((check) => check.result === 'fail').length;
  lines.push(failed === 0 ? 'No problem found.' : `${failed} problem${failed === 1 ? '' : 's'} found.`);
  return `${lines.join('\n')}\n`;
}
