import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { ClientConfig } from 'pg';

/** What the connection options of `createPostgresDriver` say about where and how to connect. */
export interface ConnectionSettings {
  /** `postgres://user:password@host:port/database?sslmode=verify-full` (or `postgresql://`). */
  url: string;
  /** A PEM bundle of the CA(s) that signed the server's certificate, for a private CA. */
  ca?: string;
  /** A file holding such a PEM bundle. */
  caFile?: string;
}

export interface Connection {
  /** pg's client settings: host, port, database, user, password and TLS, never read from a connection string. */
  client: ClientConfig;
  /** `host:port/database`, for messages: never the user's password. */
  target: string;
  /** The password, to mask it should a driver's message ever echo it. */
  password: string | undefined;
  /** Whether the connection is encrypted. */
  tls: boolean;
  host: string;
}

const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];
const URL_PARAMETERS = ['sslmode', 'sslrootcert', 'application_name'];

/**
 * Reads the database URL the way libpq documents it (https://www.postgresql.org/docs/current/libpq-ssl.html),
 * instead of handing it to pg: pg 8 treats `sslmode=require` and `verify-ca` as `verify-full` unless
 * `uselibpqcompat=true`, and lets a connection string override the TLS settings passed beside it.
 */
export function parseConnection(settings: ConnectionSettings): Connection {
  const url = parseUrl(settings.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 5432 : Number(url.port);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (host === '') throw new Error('The database URL names no host: write it as postgres://user:password@host:5432/database.');
  if (database === '' || database.includes('/')) {
    throw new Error('The database URL must name one database after the host: postgres://user:password@host:5432/database.');
  }
  for (const name of url.searchParams.keys()) {
    if (!URL_PARAMETERS.includes(name)) {
      throw new Error(
        `The database URL has the parameter "${name}", which the PostgreSQL store does not support (supported: ${URL_PARAMETERS.join(', ')}).`,
      );
    }
  }
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const target = `${url.host}/${database}`;
  const ssl = tlsOptions(url.searchParams.get('sslmode'), caBundle(settings, url.searchParams.get('sslrootcert')), target);
  const applicationName = url.searchParams.get('application_name');
  return {
    client: {
      host,
      port,
      database,
      ...(url.username === '' ? {} : { user: decodeURIComponent(url.username) }),
      ...(password === undefined ? {} : { password }),
      ...(applicationName === null ? { application_name: 'dcr-bridge' } : { application_name: applicationName }),
      ssl,
    },
    target,
    password,
    tls: ssl !== false,
    host,
  };
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Never echo the text: it holds the password.
    throw new Error(
      'The database URL does not parse: write it as postgres://user:password@host:5432/database (percent-encode special characters in the password).',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`The database URL must start with postgres:// or postgresql://, not ${url.protocol}//.`);
  }
  return url;
}

function caBundle(settings: ConnectionSettings, rootCertFile: string | null): string | undefined {
  const sources = [settings.ca !== undefined, settings.caFile !== undefined, rootCertFile !== null].filter(Boolean).length;
  if (sources > 1) throw new Error('Give the database CA one way only: the ca option, the caFile option or sslrootcert in the URL.');
  if (settings.ca !== undefined) return settings.ca;
  const file = settings.caFile ?? rootCertFile ?? undefined;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`Could not read the database CA file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`);
  }
}

/** libpq's sslmode semantics, on Node's TLS. */
function tlsOptions(mode: string | null, ca: string | undefined, target: string): false | ConnectionOptions {
  if (mode === 'allow' || mode === 'prefer') {
    throw new Error(
      `sslmode=${mode} is not supported for ${target}: pg cannot fall back from TLS to a plain connection. Use sslmode=verify-full (or require, or verify-ca with a CA), or sslmode=disable.`,
    );
  }
  if (mode !== null && !SSL_MODES.includes(mode as SslMode)) {
    throw new Error(`sslmode=${mode} is not an sslmode the PostgreSQL store knows for ${target} (known: ${SSL_MODES.join(', ')}).`);
  }
  if (mode === null || mode === 'disable') {
    if (ca !== undefined) {
      throw new Error(`A CA is given for ${target} but the URL does not ask for TLS: add sslmode=verify-full (or verify-ca) to the URL.`);
    }
    return false;
  }
  switch (mode as Exclude<SslMode, 'disable'>) {
    case 'require':
      // libpq: encrypted, the server not verified; with a root CA, it behaves like verify-ca.
      return ca === undefined ? { rejectUnauthorized: false } : { ca, checkServerIdentity: () => undefined };
    case 'verify-ca':
      if (ca === undefined) {
        throw new Error(
          `sslmode=verify-ca for ${target} needs the CA that signed the server's certificate: set the ca or caFile option (or sslrootcert in the URL).`,
        );
      }
      return { ca, checkServerIdentity: () => undefined };
    case 'verify-full':
      // Node's default: the chain up to the CA (or Node's public roots) and the host name.
      return ca === undefined ? {} : { ca };
  }
}

/** A driver message with the password masked, should it ever appear there. */
export function maskPassword(text: string, password: string | undefined): string {
  if (password === undefined || password === '') return text;
  return text.split(password).join('***').split(encodeURIComponent(password)).join('***');
}
