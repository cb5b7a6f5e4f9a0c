import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { silentLogger } from '@dcr-bridge/core';
import { openAdapter } from '../server.js';
import type { KonnectCommand } from '../konnect/setup.js';
import { serve } from './serve.js';

/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const HELP = `Usage: dcr-bridge [command] [options]

Commands:
  serve             run the bridge, configured from the environment (the default with no command)
  doctor            check the configuration, the IdP's reachability, the admin credentials and their permissions
  verify <url>      call a DCR bridge the way Konnect does and check its answers against Konnect's contract
  konnect <command> set up Konnect for this bridge (setup, status, rotate-key; KONNECT_TOKEN from the environment)

Options:
  -h, --help        show this help (also: dcr-bridge <command> --help)
  -v, --version     print the version of @dcr-bridge/server (with --json: {"version": …})

Exit codes: 0 success, 1 a check failed or the server could not start, 2 usage error.
`;

const SERVE_HELP = `Usage: dcr-bridge serve

Runs the bridge. Every setting comes from the environment, a .env file in the working directory,
or the file named by DCR_BRIDGE_CONFIG (see the README). With no DCR_BRIDGE_ADAPTER it starts the
embedded dev mode. Stops gracefully on SIGTERM or SIGINT.

Exit codes: 0 stopped by a signal, 1 bad settings, failed start or failed shutdown, 2 usage error.
`;

const DOCTOR_HELP = `Usage: dcr-bridge doctor [--write-test [--scope <scopes>]] [--json] [--timeout <ms>]

Checks what would stop the bridge from serving Konnect, reading the settings exactly as \`serve\` does
(the environment, ./.env, DCR_BRIDGE_CONFIG):
  configuration   every setting problem, then the adapter and its store opened
  reachability    the IdP's admin URL: DNS, TCP, TLS (certificate and expiry), an HTTP answer
  credentials     the admin credentials accepted (the readiness check)
  permissions     each permission the adapter needs, read-only where the IdP shows it,
                  with what to grant at the IdP when one is missing
Read-only: nothing is created unless --write-test is given.

Options:
  --write-test      also create a probe client (named "dcr-bridge doctor probe …"), get a token with its
                    credentials, rotate its secret (the old one must be refused), and delete it
  --scope <scopes>  scopes the probe asks for, comma-separated (an IdP that refuses a client
                    without one, e.g. Cognito, needs a scope it has)
  --json            one JSON document on stdout instead of the human report
  --timeout <ms>    how long each network step may take (default 10000)
  -h, --help        show this help

The adapter's store is opened as the server opens it: an SQLite store file that a running server owns
cannot be opened (run the doctor before the server, or against a PostgreSQL store).

Exit codes: 0 no problem found, 1 a check failed, 2 usage error.
`;

const VERIFY_HELP = `Usage: dcr-bridge verify <url> --api-key <key> [--lifecycle] [--json] [--timeout <ms>]

Plays Konnect against any DCR bridge at <url> (the dcr_base_url of the DCR provider in Konnect):
sends the create call of the provider's "Verify" button, checks the answer against Konnect's
contract, then deletes what it created. Client secrets are never printed.

Options:
  --api-key <key>   the key Konnect sends in X-API-KEY (required)
  --lifecycle       the whole lifecycle: create, new-secret, event-hook update_application,
                    delete, delete again, and a call without the API key
  --json            one JSON document on stdout instead of the human report
  --timeout <ms>    how long each call may take (default 10000, Konnect's budget)
  -h, --help        show this help

Exit codes: 0 every check passed, 1 a check failed, 2 usage error.
`;

class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Runs the command line; sets process.exitCode (serve manages the process itself). */
export async function main(argv: string[]): Promise<void> {
  try {
    await dispatch(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`dcr-bridge: ${error.message} (see: dcr-bridge ${error.command ? `${error.command} ` : ''}--help)\n`);
    process.exitCode = EXIT_USAGE;
  }
}

async function dispatch(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined) return serve();
  if (command.startsWith('-')) return topLevel(argv);
  if (command === 'serve') {
    const { values } = parse(args, { help: { type: 'boolean', short: 'h' } }, 'serve', 0);
    if (values.help) return print(SERVE_HELP);
    return serve();
  }
  if (command === 'verify') return verify(args);
  if (command === 'doctor') return doctor(args);
  if (command === 'konnect') return konnect(args);
  throw new UsageError(`unknown command "${command}"`);
}

function topLevel(argv: string[]): void {
  const { values } = parse(
    argv,
    { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' }, json: { type: 'boolean' } },
    undefined,
    0,
  );
  if (values.help) return print(HELP);
  if (values.version) return print(values.json ? `${JSON.stringify({ version: packageVersion() })}\n` : `${packageVersion()}\n`);
  throw new UsageError('--json goes with --version or a command');
}

async function doctor(args: string[]): Promise<void> {
  const { values } = parse(
    args,
    {
      'write-test': { type: 'boolean' },
      scope: { type: 'string' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    'doctor',
    0,
  );
  if (values.help) return print(DOCTOR_HELP);
  // The other commands load with their use: `serve`, the default, never carries them.
  const { formatDoctorReport, runDoctor } = await import('./doctor.js');
  const timeoutMs = timeoutOption(values.timeout, 'doctor');
  if (values.scope !== undefined && !values['write-test']) throw new UsageError('--scope goes with --write-test', 'doctor');
  const probeScopes = (values.scope ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  // The settings exactly as `serve` reads them: ./.env under the environment.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const report = await runDoctor({
    env: process.env,
    cwd: process.cwd(),
    writeTest: values['write-test'] === true,
    probeScopes,
    timeoutMs,
    openAdapter: (config) => openAdapter(config, { logger: silentLogger, journalFile: false }),
  });
  print(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
  process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
}

async function konnect(args: string[]): Promise<void> {
  const { values, positionals } = parse(
    args,
    {
      'dry-run': { type: 'boolean' },
      'new-key': { type: 'boolean' },
      'update-key': { type: 'boolean' },
      'key-file': { type: 'string' },
      sync: { type: 'string' },
      wait: { type: 'string' },
      verify: { type: 'boolean' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    'konnect',
    1,
  );
  const { formatKonnectReport, KONNECT_HELP, shellSync } = await import('./konnect.js');
  if (values.help) return print(KONNECT_HELP);
  const [sub] = positionals;
  if (sub === undefined) throw new UsageError('a command is missing: setup, status or rotate-key', 'konnect');
  if (!['setup', 'status', 'rotate-key'].includes(sub)) throw new UsageError(`unknown konnect command "${sub}"`, 'konnect');
  const only = (flag: string, commands: string[]) => {
    if (values[flag as keyof typeof values] !== undefined && !commands.includes(sub))
      throw new UsageError(`--${flag} goes with ${commands.join(' or ')}`, 'konnect');
  };
  only('dry-run', ['setup', 'rotate-key']);
  only('new-key', ['setup']);
  only('update-key', ['setup']);
  only('sync', ['setup', 'rotate-key']);
  only('wait', ['setup', 'rotate-key']);
  only('verify', ['status']);
  if (values['new-key'] && !values['key-file'] && !process.env.DCR_BRIDGE_API_KEYS_FILE)
    throw new UsageError('--new-key needs --key-file <file>: the key is written there, never printed', 'konnect');
  const timeoutMs = timeoutOption(values.timeout, 'konnect');
  const waitSeconds = values.wait === undefined ? 300 : Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds <= 0) throw new UsageError('--wait takes a positive number of seconds', 'konnect');
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { runKonnect } = await import('../konnect/setup.js');
  const report = await runKonnect(sub as KonnectCommand, {
    env: process.env,
    cwd: process.cwd(),
    dryRun: values['dry-run'] === true,
    newKey: values['new-key'] === true,
    updateKey: values['update-key'] === true,
    keyFile: values['key-file'],
    verify: values.verify === true,
    waitMs: waitSeconds * 1000,
    sync: values.sync === undefined ? undefined : shellSync(values.sync),
    timeoutMs,
    openAdapter: (config) => openAdapter(config, { logger: silentLogger, journalFile: false }),
  });
  print(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatKonnectReport(report));
  process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
}

async function verify(args: string[]): Promise<void> {
  const { values, positionals } = parse(
    args,
    {
      'api-key': { type: 'string' },
      lifecycle: { type: 'boolean' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    'verify',
    1,
  );
  if (values.help) return print(VERIFY_HELP);
  const [url] = positionals;
  if (url === undefined) throw new UsageError('the URL of the bridge is missing', 'verify');
  if (!isHttpUrl(url)) throw new UsageError(`"${url}" is not an http(s) URL`, 'verify');
  const apiKey = values['api-key'];
  if (!apiKey) throw new UsageError('--api-key is required', 'verify');
  const timeoutMs = timeoutOption(values.timeout, 'verify');

  const { formatReport, verifyBridge } = await import('./verify.js');
  const report = await verifyBridge({ url, apiKey, lifecycle: values.lifecycle === true, timeoutMs });
  print(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
}

function timeoutOption(value: string | undefined, command: string): number {
  const timeoutMs = value === undefined ? 10_000 : Number(value);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout takes a positive number of milliseconds', command);
  return timeoutMs;
}

/** parseArgs, strict, with its errors turned into one-line usage errors. */
function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  command: string | undefined,
  maxPositionals: number,
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!code?.startsWith('ERR_PARSE_ARGS')) throw error;
    // Node's messages go on with advice about "--"; the first sentence is the useful part.
    throw new UsageError((error as Error).message.split('. ')[0]!.replace(/\.$/, ''), command);
  }
  if (parsed.positionals.length > maxPositionals)
    throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`, command);
  return parsed;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** The version of this package, read at run time from its package.json (two levels up from src/cli or dist/cli). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function print(text: string): void {
  process.stdout.write(text);
}
