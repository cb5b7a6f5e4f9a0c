import { spawn } from 'node:child_process';
import type { KonnectCheck, KonnectReport } from '../konnect/setup.js';

export const KONNECT_HELP = `Usage: dcr-bridge konnect <setup|status|rotate-key> [options]

Connects the bridge to Kong Konnect through Konnect's public API, from the bridge's own settings
(the environment, ./.env, DCR_BRIDGE_CONFIG, as \`serve\` reads them) and these:
  KONNECT_TOKEN                   a personal (kpat_…) or system account (spat_…) access token; required,
                                  never an argument, never printed
  KONNECT_REGION                  us (default), eu, au, me, in, sg; or KONNECT_API_URL (https://eu.api.konghq.com)
  DCR_BRIDGE_PUBLIC_URL           where Konnect reaches the bridge (DCR_BRIDGE_BASE_PATH is added); required
  DCR_BRIDGE_ISSUER               the IdP's issuer, when it cannot be discovered from the adapter's token endpoint
  KONNECT_DCR_PROVIDER_NAME       the DCR provider's name (default dcr-bridge)
  KONNECT_AUTH_STRATEGY_NAME      the auth strategy's name (default dcr-bridge); _DISPLAY_NAME (Client credentials)
  KONNECT_SCOPES, KONNECT_CREDENTIAL_CLAIM, KONNECT_AUTH_METHODS
                                  the strategy's openid-connect settings, comma-separated (defaults: openid;
                                  client_id, or cid for okta and azp for keycloak; client_credentials,bearer)

Commands:
  setup        create or update (by name) the HTTP DCR provider and the openid_connect auth strategy,
               then run Konnect's verify; says what is left to do in Konnect, with the ids
  status       compare what Konnect holds with the bridge's settings; each difference is a problem with a fix
  rotate-key   add a new key to the key file, wait until the bridge accepts it, give it to Konnect,
               verify, then drop the old key from the file

Options:
  --dry-run           setup, rotate-key: print the changes, make none
  --new-key           setup: make a new API key, add it to --key-file (mode 600) and give it to Konnect
  --update-key        setup: give Konnect the bridge's last API key even when the provider exists
  --key-file <file>   the file the bridge reads its keys from (DCR_BRIDGE_API_KEYS_FILE)
  --sync <command>    rotate-key, setup --new-key: a shell command run after each write of the key file, with its path
                      in $DCR_BRIDGE_KEY_FILE (e.g. update the Kubernetes Secret and restart the replicas)
  --wait <seconds>    rotate-key, setup --new-key: how long to wait for the bridge to accept the new key (default 300)
  --verify            status: also run Konnect's verify (a real create and delete through the bridge)
  --json              one JSON document on stdout instead of the human report
  --timeout <ms>      how long each call may take (default 10000)
  -h, --help          show this help

Keys are never printed: output names a key by its fingerprint (sha256:…, 12 hex digits).

Exit codes: 0 done and verified (status: no difference), 1 a check failed, 2 usage error.
`;

/** Runs a --sync command through the shell, its output to stderr; a failure stops the rotation. */
export function shellSync(command: string): (keyFile: string) => Promise<void> {
  return (keyFile) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, {
        shell: true,
        stdio: ['ignore', process.stderr, process.stderr],
        env: { ...process.env, DCR_BRIDGE_KEY_FILE: keyFile },
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`--sync exited with ${code}`))));
    });
}

const MARK: Record<KonnectCheck['result'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

/** The human report: the checks by group (as doctor), the changes, verify's answer and what is left to do. */
export function formatKonnectReport(report: KonnectReport): string {
  const lines = [`dcr-bridge konnect ${report.command}${report.dryRun ? ' --dry-run' : ''}`];
  let group: string | undefined;
  for (const check of report.checks) {
    if (check.group !== group) {
      group = check.group;
      lines.push(`${group}:`);
    }
    lines.push(`  ${MARK[check.result]}  ${check.name}${check.detail ? ` — ${check.detail}` : ''}`);
    if ((check.result === 'fail' || check.result === 'warn') && check.fix) lines.push(`        fix: ${check.fix}`);
  }
  if (report.changes.length > 0) {
    lines.push(report.dryRun ? 'changes (not made: --dry-run):' : 'changes:');
    for (const change of report.changes) {
      lines.push(`  ${change.action.padEnd(9)} ${change.object} ${change.name}`);
      for (const field of change.fields) lines.push(`            ${field}`);
    }
  }
  if (report.verify)
    lines.push(`verify: ${report.verify.status}${report.verify.errors.length ? ` (${report.verify.errors.join('; ')})` : ''}`);
  if (report.next.length > 0) lines.push('left to do in Konnect:', ...report.next.map((step) => `  - ${step}`));
  const failed = report.checks.filter((check) => check.result === 'fail').length;
  lines.push(failed === 0 ? 'No problem found.' : `${failed} problem${failed === 1 ? '' : 's'} found.`);
  return `${lines.join('\n')}\n`;
}
