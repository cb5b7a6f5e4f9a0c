import { createHash } from 'node:crypto';
import { measuringStore, publish, secondsSince } from './instrumentation.js';
import { BridgeError } from './errors.js';

/**
 * Durable state for adapters that must remember something per client (the RFC 7591 adapter keeps each
 * client's registration_client_uri and registration access token). Two layers:
 *
 * - a `StoreDriver` keeps opaque strings by key (embedded SQLite in `@dcr-bridge/store-sqlite`, memory
 *   here for tests and dev mode);
 * - `createEncryptedStore` puts JSON records in a driver encrypted at rest (JWE, dir + A256GCM), each
 *   ciphertext bound to its key so that rows cannot be swapped. Adapters only ever see `StateStore`.
 * - `createJsonStore` puts plain JSON records in a driver, for state that holds no secret: the lifecycle's
 *   create journal (nonces, client ids, times), which every adapter keeps, with or without a store key.
 */
export interface StoreDriver {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key starting with `prefix`, with its value, in key order. */
  list(prefix: string): Promise<Array<[string, string]>>;
  /** Throws when the store cannot serve (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
  /**
   * Only in a driver that several processes use at once (PostgreSQL shared by replicas): runs `work` while
   * holding a lock on `name` that every process on this store respects, and releases it when `work` settles
   * or when the process holding it dies. Core's lifecycle then serializes the operations on one client
   * across processes, and finishes a dead process's open creates from any other one (see lifecycle.ts).
   * A driver that one process owns (SQLite, the journal file, memory) leaves it out.
   */
  exclusive?<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export interface StateStore {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
  list<T>(prefix: string): Promise<Array<[string, T]>>;
  check(): Promise<void>;
  close(): Promise<void>;
  /** The driver's cross-process lock, where its driver has one (see `StoreDriver.exclusive`). */
  exclusive?<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export function createMemoryDriver(): StoreDriver {
  const rows = new Map<string, string>();
  return {
    get: async (key) => rows.get(key),
    set: async (key, value) => void rows.set(key, value),
    delete: async (key) => void rows.delete(key),
    list: async (prefix) => [...rows].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => compareCodePoints(a, b)),
    check: async () => undefined,
    close: async () => rows.clear(),
  };
}

interface StoreKey {
  id: string;
  bytes: Uint8Array;
}

/**
 * Reads a store key: 32 random bytes in base64 or base64url (`openssl rand -base64 32`). Throws with a
 * message that says how to make one, never echoing the value.
 */
export function parseStoreKey(text: string): Uint8Array {
  const trimmed = text.trim();
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new Error('A store key must be 32 random bytes in base64 (make one with: openssl rand -base64 32).');
  }
  return new Uint8Array(bytes);
}

export interface EncryptedStoreOptions {
  driver: StoreDriver;
  /** Keys as bytes: the first encrypts, every one decrypts (so a key can be rotated without downtime). */
  keys: Uint8Array[];
}

export function createEncryptedStore(options: EncryptedStoreOptions): StateStore {
  if (options.keys.length === 0) throw new Error('createEncryptedStore needs at least one key.');
  const keys: StoreKey[] = options.keys.map((bytes) => ({ bytes, id: keyId(bytes) }));
  const current = keys[0] as StoreKey;
  const { driver } = options;

  return measured('encrypted', {
    async get<T>(key: string) {
      const sealed = await driver.get(key);
      if (sealed === undefined) return undefined;
      return JSON.parse(await open(sealed, key, keys)) as T;
    },
    async set<T>(key: string, value: T) {
      const { CompactEncrypt } = await import('jose');
      const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.id, 'dcr-key': key })
        .encrypt(current.bytes);
      await driver.set(key, jwe);
    },
    delete: (key) => driver.delete(key),
    async list<T>(prefix: string) {
      const rows = await driver.list(prefix);
      return Promise.all(rows.map(async ([key, sealed]): Promise<[string, T]> => [key, JSON.parse(await open(sealed, key, keys)) as T]));
    },
    check: () => driver.check(),
    close: () => driver.close(),
    ...sharedLock(driver),
  });
}

/** JSON records in a driver, unencrypted: only for state that holds no secret. */
export function createJsonStore(driver: StoreDriver): StateStore {
  return measured('json', {
    get: async <T>(key: string) => {
      const text = await driver.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    set: (key, value) => driver.set(key, JSON.stringify(value)),
    delete: (key) => driver.delete(key),
    list: async <T>(prefix: string) => (await driver.list(prefix)).map(([key, text]): [string, T] => [key, JSON.parse(text) as T]),
    check: () => driver.check(),
    close: () => driver.close(),
    ...sharedLock(driver),
  });
}

function sharedLock(driver: StoreDriver): Pick<StateStore, 'exclusive'> {
  return driver.exclusive ? { exclusive: driver.exclusive.bind(driver) } : {};
}

/** The store with each get, set, delete and list published on the store channel (see instrumentation.ts). */
function measured(kind: string, store: StateStore): StateStore {
  const timed =
    <A extends unknown[], R>(operation: string, work: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (!measuringStore()) return work(...args);
      const started = performance.now();
      try {
        const result = await work(...args);
        publish.store({ operation, store: kind, ok: true, seconds: secondsSince(started) });
        return result;
      } catch (error) {
        publish.store({ operation, store: kind, ok: false, seconds: secondsSince(started) });
        throw error;
      }
    };
  return {
    get: timed('get', store.get) as StateStore['get'],
    set: timed('set', store.set),
    delete: timed('delete', store.delete),
    list: timed('list', store.list) as StateStore['list'],
    check: () => store.check(),
    close: () => store.close(),
    ...(store.exclusive ? { exclusive: store.exclusive } : {}),
  };
}

async function open(sealed: string, key: string, keys: StoreKey[]): Promise<string> {
  const header = JSON.parse(Buffer.from(sealed.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: string };
  const storeKey = keys.find((candidate) => candidate.id === header.kid);
  if (!storeKey) {
    throw new BridgeError(
      'internal_error',
      'A stored client record was encrypted with a key the bridge no longer has. Add the key it was written with back to the store keys of the bridge (newest first).',
    );
  }
  const { compactDecrypt } = await import('jose');
  const { plaintext, protectedHeader } = await compactDecrypt(sealed, storeKey.bytes);
  if (protectedHeader['dcr-key'] !== key) {
    throw new BridgeError('internal_error', 'A stored client record belongs to another key: the store has been tampered with.');
  }
  return new TextDecoder().decode(plaintext);
}

function keyId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 8);
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * For store drivers: the smallest string greater than every string that starts with `prefix`, in code point
 * order (which is UTF-8 byte order: SQLite's BINARY, PostgreSQL's COLLATE "C"), or undefined when there is
 * none (an empty prefix, or one of U+10FFFF only). `key >= prefix AND key < bound` is then exactly "starts
 * with prefix", a range the key's index serves, with no LIKE metacharacter to escape.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = [...prefix].map((char) => char.codePointAt(0) as number);
  while (codePoints.length > 0) {
    const last = codePoints.pop() as number;
    if (last === MAX_CODE_POINT) continue;
    // Surrogate code points are not characters: after U+D7FF comes U+E000.
    const next = last === 0xd7ff ? 0xe000 : last + 1;
    return String.fromCodePoint(...codePoints, next);
  }
  return undefined;
}

/** For store drivers: compares keys in code point order (UTF-8 byte order), as the databases order them; `<` on strings compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
