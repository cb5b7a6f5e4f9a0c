import { defineSettings, setting } from '@dcr-bridge/core';

/**
 * The server's own settings, declared once: `loadConfig` reads and checks them through this declaration, and
 * `pnpm docs:config` writes the README's configuration reference from it. What depends on more than one setting
 * (dev mode, the API keys' sources, the store's kind, metrics on Lambda) is decided in config.ts.
 */
export const serverSettings = defineSettings({
  settings: {
    adapter: setting.text('DCR_BRIDGE_ADAPTER', {
      defaultText: "`okta` when `OKTA_DOMAIN` is set (Kong's example bridge's configuration), else dev mode",
      doc: '`rfc7591`, `keycloak`, `cognito`, `pingone`, `pingfederate`, `okta`, `zitadel`, `authentik`, `fusionauth`, or the module specifier of an adapter package (see below)',
    }),
    apiKeys: setting.list('DCR_BRIDGE_API_KEYS', {
      defaultText: 'required (generated in dev mode)',
      doc: "comma-separated keys Konnect may send in `X-API-KEY` (12–256 of `A–Z a–z 0–9 _`, what Konnect accepts). `KONG_API_TOKENS` and `KONG_API_TOKEN` (Kong's example bridge) are read when it is unset",
    }),
    kongApiTokens: setting.list('KONG_API_TOKENS', {
      doc: "Kong's example bridge's name for `DCR_BRIDGE_API_KEYS`, read when that is unset",
    }),
    kongApiToken: setting.list('KONG_API_TOKEN', { doc: 'the same, read when `KONG_API_TOKENS` is unset too' }),
    apiKeysFile: setting.text('DCR_BRIDGE_API_KEYS_FILE', {
      doc: 'a file of more keys, separated by commas or line breaks (`#` starts a comment), added to `DCR_BRIDGE_API_KEYS`; read at each start (a change needs a restart, see Connecting to Konnect). What `dcr-bridge konnect setup --new-key` and `rotate-key` write. In Kubernetes: a Secret mounted as a file',
    }),
    publicUrl: setting.url('DCR_BRIDGE_PUBLIC_URL', {
      allowHttp: true,
      doc: 'where Konnect reaches the bridge, without the base path (`https://dcr.example.com`): for `dcr-bridge konnect`',
    }),
    issuer: setting.url('DCR_BRIDGE_ISSUER', {
      allowHttp: true,
      defaultText: 'discovered',
      doc: "the IdP's issuer for Konnect's auth strategy, when `dcr-bridge konnect` cannot find it beside the adapter's token endpoint",
    }),
    port: setting.integer('PORT', {
      default: 3000,
      min: 0,
      max: 65535,
      defaultText: '`3000`',
      doc: 'listening port (`0`: any free port; the `listening` log line says which)',
    }),
    host: setting.text('HOST', { defaultText: '`0.0.0.0` (`127.0.0.1` in dev mode)', doc: 'listening address' }),
    basePath: setting.text('DCR_BRIDGE_BASE_PATH', {
      default: '/',
      valid: { test: /^\/?[A-Za-z0-9._~\-/]*$/, expected: 'a URL path such as /v1/dcr' },
      doc: "path of the DCR API, matching the path of Konnect's `dcr_base_url` (e.g. `/v1/dcr`)",
    }),
    logLevel: setting.oneOf('DCR_BRIDGE_LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { default: 'info', doc: 'how much the log says' }),
    store: setting.text('DCR_BRIDGE_STORE', {
      default: 'dcr-bridge.sqlite',
      concealed: true,
      defaultText: '`./dcr-bridge.sqlite`',
      doc: "where per-client state (rfc7591) is kept, encrypted: an SQLite file (one process per file; not opened by the other adapters), or a PostgreSQL URL `postgres://user:password@host:5432/database?sslmode=verify-full` (also `postgresql://`) for several replicas, which then also holds every adapter's create journal (see Running several replicas and `@dcr-bridge/store-postgres` for `sslmode`). The URL is never logged or repeated in an error",
    }),
    storeCaFile: setting.text('DCR_BRIDGE_STORE_CA_FILE', {
      doc: "PostgreSQL only: a PEM file of the CA that signed the database's certificate (a private CA)",
    }),
    journal: setting.text('DCR_BRIDGE_JOURNAL', {
      defaultText: '`./dcr-bridge.journal` (`/tmp/dcr-bridge.journal` on AWS Lambda)',
      doc: "every adapter's create journal (see Crash safety): an append-only file of JSON lines, no secrets. One process per file; keep it on a persistent volume next to the store. Not used with a PostgreSQL store (the journal is in the database)",
    }),
    storeKeys: setting.list('DCR_BRIDGE_STORE_KEY', {
      defaultText: 'required by such adapters',
      doc: '32 random bytes in base64, made once (`openssl rand -base64 32 > store.key`) and the same at every start; comma-separated, newest first, to rotate keys. At boot the server checks that its keys open the stored records and refuses to start when they do not',
    }),
    operationTimeoutMs: setting.integer('DCR_BRIDGE_OPERATION_TIMEOUT_MS', {
      default: 9000,
      min: 100,
      max: 120_000,
      doc: "when the answer to Konnect is due (Konnect's own budget is about 10 s); later, Konnect gets 504",
    }),
    completionTimeoutMs: setting.integer('DCR_BRIDGE_COMPLETION_TIMEOUT_MS', {
      default: 30_000,
      min: 100,
      max: 600_000,
      doc: "how long IdP work already under way may go on after that, so that what the IdP did is known (a create it completes late is undone). The completion budget is counted from the call's start and is never shorter than `DCR_BRIDGE_OPERATION_TIMEOUT_MS`: the larger of the two is how long after a crash recovery waits before searching for the creates of the last moments, and how old a create must be before another replica's sweep touches it",
    }),
    shutdownTimeoutMs: setting.integer('DCR_BRIDGE_SHUTDOWN_TIMEOUT_MS', {
      default: 10_000,
      min: 0,
      max: 300_000,
      doc: 'grace period for in-flight requests at shutdown',
    }),
    rotationOverlapMs: setting.duration('DCR_BRIDGE_ROTATION_OVERLAP', {
      default: 0,
      max: 30 * 86_400_000,
      doc: 'how long a rotated-away secret keeps working after Konnect got the new one (`90s`, `15m`, `1h`, at most `30d`), so that teams roll the new secret out without downtime. Only adapters whose IdP keeps two secrets per client accept more than 0 (the start is refused otherwise, naming the IdP); see Rotation',
    }),
    canaryIntervalMs: setting.duration('DCR_BRIDGE_CANARY_INTERVAL', {
      default: 0,
      max: 86_400_000,
      defaultText: '`0` (off)',
      doc: "run the doctor's write test every interval (`15m`, at most `24h`): see Canary",
    }),
    canaryScopes: setting.list('DCR_BRIDGE_CANARY_SCOPES', { doc: "scopes the canary's probe client asks for (an IdP that wants one)" }),
    canaryReadiness: setting.boolean('DCR_BRIDGE_CANARY_READINESS', {
      default: false,
      doc: "`true`: `/readyz` answers 503 `canary_failing` while the canary's last run failed",
    }),
    metrics: setting.oneOf('DCR_BRIDGE_METRICS', ['on', 'off'], {
      defaultText: '`on` (`off` on AWS Lambda, unless `DCR_BRIDGE_METRICS_PORT` is set)',
      doc: '`off` removes `GET /metrics` (see Metrics)',
    }),
    metricsPort: setting.integer('DCR_BRIDGE_METRICS_PORT', {
      min: 1,
      max: 65535,
      doc: 'serve `/metrics` on this port of its own (same host) instead of the main port',
    }),
    config: setting.text('DCR_BRIDGE_CONFIG', { doc: 'a YAML (`.yaml`, `.yml`) or JSON (`.json`) file of settings' }),
  },
});
