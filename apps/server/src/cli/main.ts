import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { serve } from './serve.js';
import { formatReport, verifyBridge } from './verify.js';

/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const HELP = `Usage: dcr-bridge [command] [options]

Commands:
  serve             run the bridge, configured from the environment (the default with no command)
  verify <url>      call a DCR bridge the way Konnect does and check its answers against Konnect's contract

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
  throw new UsageError(`unknown command "${command}"`);
}

function topLevel(argv: string[]): void {
  const { values } = parse(argv, { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' }, json: { type: 'boolean' } }, undefined, 0);
  if (values.help) return print(HELP);
  if (values.version) return print(values.json ? `${JSON.stringify({ version: packageVersion() })}\n` : `${packageVersion()}\n`);
  throw new UsageError('--json goes with --version or a command');
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
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout takes a positive number of milliseconds', 'verify');

  const report = await verifyBridge({ url, apiKey, lifecycle: values.lifecycle === true, timeoutMs });
  print(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  process.exitCode = report.ok ? EXIT_OK : EXIT_FAILED;
}

/** parseArgs, strict, with its errors turned into one-line usage errors. */
function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, command: string | undefined, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!code?.startsWith('ERR_PARSE_ARGS')) throw error;
    // Node's messages go on with advice about "--"; the first sentence is the useful part.
    throw new UsageError((error as Error).message.split('. ')[0]!.replace(/\.$/, ''), command);
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`, command);
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
