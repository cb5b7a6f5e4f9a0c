import { describe, expect, it } from 'vitest';
import {
  BridgeError,
  JOURNAL_PREFIX,
  createJsonStore,
  createMemoryDriver,
  defineDcrAdapter,
  uniqueName,
  type IdpPrimitives,
  type JournalEntry,
  type OperationContext,
  type StateStore,
} from '../src/index.js';
import { createJsonLogger, parseRegistration } from '../src/http.js';
import { konnectBody, ANY_REGISTRATION } from './fixtures.js';
import { captureLines } from './helpers.js';

/** An IdP in memory whose primitives can be made to fail, to hang, or to run slowly, and that records overlap. */
interface MemoryClient {
  name: string;
  secret: string;
  redirectUris: string[];
  ours: boolean;
}

function memoryIdp(options: { searchable?: boolean; handsOverCreated?: boolean } = {}) {
  const clients = new Map<string, MemoryClient>();
  /** Errors the next calls of a step throw; a function runs first (e.g. to make the client vanish). */
  const faults: Partial<Record<'create' | 'afterCreate' | 'remove' | 'rotate' | 'find', Array<BridgeError | (() => BridgeError)>>> = {};
  const calls: string[] = [];
  let running = 0;
  let maxRunning = 0;
  let counter = 0;
  const fail = (step: keyof typeof faults) => {
    const fault = faults[step]?.shift();
    if (fault) throw typeof fault === 'function' ? fault() : fault;
  };
  const exclusive = async <T>(work: () => T): Promise<T> => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      return work();
    } finally {
      running--;
    }
  };
  const primitives: IdpPrimitives<MemoryClient> = {
    id: 'memory',
    idpName: 'Memory IdP',
    marker: 'ours flag',
    async find(clientId) {
      calls.push(`find ${clientId}`);
      fail('find');
      return clients.get(clientId);
    },
    isOurs: (client) => client.ours,
    registration: ANY_REGISTRATION,
    async create(registration, context) {
      calls.push('create');
      if (registration.scopes.includes('unknown')) throw new BridgeError('invalid_scope', 'No scope "unknown".');
      const clientId = `client-${++counter}`;
      const name = uniqueName(registration.clientName, { suffix: context.nonce });
      fail('create');
      const client = { name, secret: `secret-${counter}`, redirectUris: registration.redirectUris, ours: true };
      clients.set(clientId, client);
      await context.created(clientId, options.handsOverCreated ? client : undefined);
      fail('afterCreate');
      return { clientId, clientSecret: `secret-${counter}` };
    },
    async remove(clientId) {
      calls.push(`remove ${clientId}`);
      fail('remove');
      clients.delete(clientId);
    },
    ...(options.searchable === false
      ? {}
      : {
          async findByNonce(nonce: string, draft: { clientName: string }) {
            calls.push(`search ${nonce}`);
            const name = uniqueName(draft.clientName, { suffix: nonce });
            const found = [...clients].find(([, client]) => client.name === name);
            return found ? { clientId: found[0], client: found[1] } : undefined;
          },
        }),
    rotateSecret: (clientId, client) =>
      exclusive(() => {
        calls.push(`rotate ${clientId}`);
        fail('rotate');
        client.secret = `${client.secret}+`;
        return client.secret;
      }),
    replaceRedirectUris: (clientId, client, redirectUris) =>
      exclusive(() => {
        calls.push(`update ${clientId}`);
        client.redirectUris = redirectUris;
      }),
    checkReady: async () => ({ ready: true }),
  };
  return { primitives, clients, faults, calls, maxRunning: () => maxRunning };
}

function context(overrides: Partial<OperationContext> = {}): OperationContext {
  return {
    signal: new AbortController().signal,
    deadline: new AbortController().signal,
    answered: Promise.resolve(true),
    logger: createJsonLogger({ write: () => undefined }),
    requestId: 'r',
    ...overrides,
  };
}

const registration = (overrides: Record<string, unknown> = {}) => parseRegistration(konnectBody(overrides));
const fast = { cleanupBaseDelayMs: 1, cleanupMaxDelayMs: 5 };
const now = { inFlightMs: 0 };
const openEntries = async (journal: StateStore) => (await journal.list<JournalEntry>(JOURNAL_PREFIX)).map(([, entry]) => entry);

describe('defineDcrAdapter: the rules of the contract', () => {
  it('derives the capabilities from the primitives it was given', () => {
    const { primitives } = memoryIdp();
    expect(defineDcrAdapter(primitives).capabilities).toEqual({
      rotateSecret: true,
      updateRedirectUris: true,
      audienceRegistrations: false,
    });
    const { rotateSecret: _rotate, replaceRedirectUris: _replace, ...minimal } = primitives;
    expect(defineDcrAdapter(minimal).capabilities).toEqual({
      rotateSecret: false,
      updateRedirectUris: false,
      audienceRegistrations: false,
    });
  });

  it("hands the IdP's diagnostics to the doctor as they are, and has none when the primitives have none", () => {
    const { primitives } = memoryIdp();
    const diagnostics = {
      adminUrl: 'https://idp.example',
      checkPermissions: async () => [],
      tokenEndpoint: async () => 'https://idp.example/token',
    };
    expect(defineDcrAdapter({ ...primitives, diagnostics }).diagnostics).toBe(diagnostics);
    expect(defineDcrAdapter(primitives).diagnostics).toBeUndefined();
  });

  it('refuses clients without the marker and answers not_found for unknown ones, changing nothing', async () => {
    const idp = memoryIdp();
    idp.clients.set('foreign', { name: 'x', secret: 's', redirectUris: ['https://a.example/cb'], ours: false });
    const adapter = defineDcrAdapter(idp.primitives);
    await expect(adapter.rotateSecret?.('foreign', context())).rejects.toMatchObject({
      code: 'client_not_managed',
      message: expect.stringContaining('ours flag'),
    });
    await expect(adapter.deleteClient('foreign', context())).rejects.toMatchObject({ code: 'client_not_managed' });
    await expect(adapter.rotateSecret?.('nobody', context())).rejects.toMatchObject({ code: 'not_found' });
    await expect(adapter.deleteClient('nobody', context())).resolves.toBeUndefined();
    expect(idp.clients.get('foreign')?.secret).toBe('s');
    expect(idp.calls.filter((call) => call.startsWith('remove') || call.startsWith('rotate'))).toEqual([]);
  });

  it('treats a delete that failed on a client that vanished meanwhile as done, and a rotation of one as not found', async () => {
    const idp = memoryIdp();
    const adapter = defineDcrAdapter(idp.primitives);
    const created = await adapter.createClient(registration(), context());
    const vanish = (clientId: string) => () => {
      idp.clients.delete(clientId);
      return new BridgeError('idp_unavailable', 'IdP answered 502.');
    };
    idp.faults.remove = [vanish(created.clientId)];
    await expect(adapter.deleteClient(created.clientId, context())).resolves.toBeUndefined();
    const second = await adapter.createClient(registration(), context());
    idp.faults.rotate = [vanish(second.clientId)];
    await expect(adapter.rotateSecret?.(second.clientId, context())).rejects.toMatchObject({ code: 'not_found' });
    const third = await adapter.createClient(registration(), context());
    idp.faults.rotate = [new BridgeError('idp_unavailable', 'IdP answered 502.')];
    await expect(adapter.rotateSecret?.(third.clientId, context())).rejects.toMatchObject({ code: 'idp_unavailable' });
  });

  it('runs one operation per client at a time, in arrival order', async () => {
    const idp = memoryIdp();
    const adapter = defineDcrAdapter(idp.primitives);
    const { clientId } = await adapter.createClient(registration(), context());
    const event = { type: 'update_application' as const, redirectUris: ['https://new.example/cb'], application: {} as never };
    await Promise.all([
      adapter.rotateSecret?.(clientId, context()),
      adapter.applyEvent?.(clientId, event, context()),
      adapter.rotateSecret?.(clientId, context()),
      adapter.applyEvent?.(clientId, event, context()),
    ]);
    expect(idp.maxRunning()).toBe(1);
    expect(idp.calls.filter((call) => /^(rotate|update)/.test(call))).toEqual([
      `rotate ${clientId}`,
      `update ${clientId}`,
      `rotate ${clientId}`,
      `update ${clientId}`,
    ]);
  });

  it('does not start an operation whose Konnect deadline passed while it queued', async () => {
    const idp = memoryIdp();
    const adapter = defineDcrAdapter(idp.primitives);
    const { clientId } = await adapter.createClient(registration(), context());
    const deadline = new AbortController();
    const first = adapter.rotateSecret?.(clientId, context());
    const queued = adapter.rotateSecret?.(clientId, context({ deadline: deadline.signal }));
    deadline.abort();
    await first;
    await expect(queued).rejects.toMatchObject({ code: 'idp_timeout', message: expect.stringContaining('nothing was changed') });
    expect(idp.calls.filter((call) => call.startsWith('rotate'))).toHaveLength(1);
  });
});

describe('defineDcrAdapter: journaled creates', () => {
  it('closes the journal entry once Konnect got the answer', async () => {
    const journal = createJsonStore(createMemoryDriver());
    const adapter = defineDcrAdapter(memoryIdp().primitives, { journal });
    await adapter.createClient(registration(), context());
    await adapter.drained?.();
    expect(await openEntries(journal)).toEqual([]);
  });

  it('deletes a client whose answer never reached Konnect, retrying until it is gone', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(createMemoryDriver());
    const adapter = defineDcrAdapter(idp.primitives, { journal, ...fast });
    idp.faults.remove = [new BridgeError('idp_unavailable', 'down'), new BridgeError('idp_timeout', 'slow')];
    const { clientId } = await adapter.createClient(registration(), context({ answered: Promise.resolve(false) }));
    await adapter.drained?.();
    expect(idp.clients.has(clientId)).toBe(false);
    expect(idp.calls.filter((call) => call === `remove ${clientId}`)).toHaveLength(3);
    expect(await openEntries(journal)).toEqual([]);
  });

  it('deletes a half-created client when a later create step fails', async () => {
    const idp = memoryIdp();
    const adapter = defineDcrAdapter(idp.primitives, fast);
    idp.faults.afterCreate = [new BridgeError('idp_error', 'reading the secret failed')];
    await expect(adapter.createClient(registration(), context())).rejects.toMatchObject({ code: 'idp_error' });
    await adapter.drained?.();
    expect(idp.clients.size).toBe(0);
  });

  it('finds by nonce and deletes a client created by a call whose answer was lost', async () => {
    const idp = memoryIdp();
    const adapter = defineDcrAdapter(idp.primitives, fast);
    const original = idp.primitives.create;
    idp.primitives.create = async (reg, ctx) => {
      await original(reg, { ...ctx, created: async () => undefined });
      throw new BridgeError('idp_unavailable', 'the connection was reset');
    };
    await expect(adapter.createClient(registration(), context())).rejects.toMatchObject({ code: 'idp_unavailable' });
    await adapter.drained?.();
    expect(idp.clients.size).toBe(0);
    expect(idp.calls.some((call) => call.startsWith('search '))).toBe(true);
  });

  it('neither searches nor keeps an entry when the IdP refused the create', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(createMemoryDriver());
    const adapter = defineDcrAdapter(idp.primitives, { journal });
    await expect(adapter.createClient(registration({ scopes: ['unknown'] }), context())).rejects.toMatchObject({ code: 'invalid_scope' });
    await adapter.drained?.();
    expect(idp.calls.some((call) => call.startsWith('search '))).toBe(false);
    expect(await openEntries(journal)).toEqual([]);
  });
});

describe('defineDcrAdapter: a create the IdP finishes after the bridge gave up', () => {
  it('is searched for again once it can no longer be under way, and deleted when it landed late', async () => {
    const idp = memoryIdp();
    const base = idp.primitives;
    const adapter = defineDcrAdapter(
      {
        ...base,
        // The IdP holds the create: the bridge gives up (timeout) and the client appears 300 ms later.
        async create(registration, context) {
          const name = uniqueName(registration.clientName, { suffix: context.nonce });
          setTimeout(() => idp.clients.set('late-client', { name, secret: 's', redirectUris: [], ours: true }), 300);
          throw new BridgeError('idp_timeout', 'no answer in time');
        },
      },
      { inFlightMs: 200 },
    );
    await expect(adapter.createClient(registration(), context())).rejects.toMatchObject({ code: 'idp_timeout' });
    await adapter.drained?.();
    expect(idp.calls.filter((call) => call.startsWith('search'))).toHaveLength(2);
    expect(idp.clients.has('late-client')).toBe(false);
    await adapter.close?.();
  });
});

describe('defineDcrAdapter: recovery after a crash', () => {
  it('deletes what a dead process created and never answered, and closes entries that never reached the IdP', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(createMemoryDriver());
    const crashed = defineDcrAdapter(idp.primitives, { journal });
    // Konnect's deadline passes while the IdP works, and the process "dies" before the undo: the entry stays open.
    const createThenDie = () => {
      const deadline = new AbortController();
      const created = crashed.createClient(registration(), context({ answered: new Promise(() => undefined), deadline: deadline.signal }));
      deadline.abort();
      return created;
    };
    const { clientId } = await createThenDie();
    const beforeCreatedCall = idp.primitives.create;
    idp.primitives.create = async (reg, ctx) => beforeCreatedCall(reg, { ...ctx, created: async () => undefined });
    const { clientId: unjournaled } = await createThenDie();
    await journal.set(`${JOURNAL_PREFIX}abcd1234`, { nonce: 'abcd1234', clientName: 'Never made', startedAt: new Date().toISOString() });

    const restarted = defineDcrAdapter(idp.primitives, { journal, ...fast });
    expect(await restarted.recover?.(now)).toEqual({ open: 3, undone: 2, neverCreated: 1, unresolved: 0, kept: 0, rotations: 0 });
    expect(idp.clients.has(clientId)).toBe(false);
    expect(idp.clients.has(unjournaled)).toBe(false);
    expect(await openEntries(journal)).toEqual([]);
  });

  it('keeps, and logs as a possible orphan, a client whose answer was leaving for Konnect when the process died', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(createMemoryDriver());
    // The answer was being written: the entry is marked answering, and the process dies before it is closed.
    const { clientId } = await defineDcrAdapter(idp.primitives, { journal }).createClient(
      registration(),
      context({ answered: new Promise(() => undefined) }),
    );
    expect(await openEntries(journal)).toEqual([expect.objectContaining({ clientId, answering: true })]);
    const lines = captureLines();
    const restarted = defineDcrAdapter(idp.primitives, { journal, logger: createJsonLogger({ write: lines.write }) });
    expect(await restarted.recover?.(now)).toEqual({ open: 1, undone: 0, neverCreated: 0, unresolved: 0, kept: 1, rotations: 0 });
    expect(idp.clients.has(clientId)).toBe(true);
    expect(lines.text()).toContain(clientId);
    expect(await openEntries(journal)).toEqual([]);
  });

  it('logs, for an operator, a create it cannot resolve because the IdP cannot be searched', async () => {
    const idp = memoryIdp({ searchable: false });
    const journal = createJsonStore(createMemoryDriver());
    await journal.set(`${JOURNAL_PREFIX}zz99yy88`, { nonce: 'zz99yy88', clientName: 'Lost app', startedAt: '2026-01-01T00:00:00.000Z' });
    const lines = captureLines();
    const adapter = defineDcrAdapter(idp.primitives, { journal, logger: createJsonLogger({ write: lines.write }) });
    expect(await adapter.recover?.(now)).toEqual({ open: 1, undone: 0, neverCreated: 0, unresolved: 1, kept: 0, rotations: 0 });
    expect(lines.text()).toContain('zz99yy88');
    expect(lines.text()).toContain('"level":"error"');
  });

  it('searches for a create of the dead process only once the IdP can no longer be working on it', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(createMemoryDriver());
    const nonce = 'late0001';
    await journal.set(`${JOURNAL_PREFIX}${nonce}`, { nonce, clientName: 'Held at the IdP', startedAt: new Date().toISOString() });
    const adapter = defineDcrAdapter(idp.primitives, { journal });
    const recovering = adapter.recover?.({ inFlightMs: 150 });
    // The IdP finishes the dead process's create 50 ms into the recovery.
    await new Promise((resolve) => setTimeout(resolve, 50));
    idp.clients.set('late-client', { name: uniqueName('Held at the IdP', { suffix: nonce }), secret: 's', redirectUris: [], ours: true });
    expect(await recovering).toEqual({ open: 1, undone: 1, neverCreated: 0, unresolved: 0, kept: 0, rotations: 0 });
    expect(idp.clients.has('late-client')).toBe(false);
  });

  it('leaves alone the creates this process is still working on', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(createMemoryDriver());
    const adapter = defineDcrAdapter(idp.primitives, { journal });
    let answer!: (value: boolean) => void;
    const { clientId } = await adapter.createClient(registration(), context({ answered: new Promise((resolve) => (answer = resolve)) }));
    expect(await adapter.recover?.(now)).toEqual({ open: 0, undone: 0, neverCreated: 0, unresolved: 0, kept: 0, rotations: 0 });
    answer(true);
    await adapter.drained?.();
    expect(idp.clients.has(clientId)).toBe(true);
  });
});

describe('defineDcrAdapter: remembered ownership', () => {
  const finds = (calls: string[]) => calls.filter((call) => call.startsWith('find')).length;

  it('skips the read for a client this process created or proved to be its own', async () => {
    const idp = memoryIdp({ handsOverCreated: true });
    const adapter = defineDcrAdapter(idp.primitives);
    const { clientId } = await adapter.createClient(registration(), context());
    await adapter.rotateSecret?.(clientId, context());
    await adapter.applyEvent?.(
      clientId,
      { type: 'update_application', redirectUris: ['https://app.example.com/cb'], application: {} as never },
      context(),
    );
    await adapter.deleteClient(clientId, context());
    expect(idp.calls).toEqual(['create', `rotate ${clientId}`, `update ${clientId}`, `remove ${clientId}`]);

    // Created before this process remembered it: one read proves it ours, the next operation skips it.
    const other = defineDcrAdapter(idp.primitives);
    const second = await adapter.createClient(registration(), context());
    idp.calls.length = 0;
    await other.rotateSecret?.(second.clientId, context());
    await other.rotateSecret?.(second.clientId, context());
    expect(idp.calls).toEqual([`find ${second.clientId}`, `rotate ${second.clientId}`, `rotate ${second.clientId}`]);
  });

  it('never remembers a foreign client, nor one that is gone', async () => {
    const idp = memoryIdp();
    idp.clients.set('foreign', { name: 'theirs', secret: 's', redirectUris: [], ours: false });
    const adapter = defineDcrAdapter(idp.primitives);
    for (let i = 0; i < 2; i++)
      await expect(adapter.rotateSecret?.('foreign', context())).rejects.toMatchObject({ code: 'client_not_managed' });
    expect(finds(idp.calls)).toBe(2);
    for (let i = 0; i < 2; i++) await expect(adapter.rotateSecret?.('missing', context())).rejects.toMatchObject({ code: 'not_found' });
    expect(finds(idp.calls)).toBe(4);
  });

  // As an IdP answers a write on a client it no longer holds: an unexpected 404 reported as an IdP error, or
  // a primitive that recognises it and throws not_found itself.
  it.each([
    ['an IdP error', (clientId: string) => new BridgeError('idp_error', `Memory IdP answered HTTP 404 for ${clientId}.`)],
    ['not_found', (clientId: string) => new BridgeError('not_found', `Memory IdP has no client ${clientId}.`)],
  ])(
    'answers not_found for a remembered client deleted behind its back (the primitive throws %s), then forgets it; its delete succeeds',
    async (_kind, gone) => {
      const idp = memoryIdp({ handsOverCreated: true });
      const adapter = defineDcrAdapter({
        ...idp.primitives,
        rotateSecret: async (clientId, client, ctx) => {
          if (!idp.clients.has(clientId)) throw gone(clientId);
          return idp.primitives.rotateSecret!(clientId, client, ctx);
        },
      });
      const { clientId } = await adapter.createClient(registration(), context());
      idp.clients.delete(clientId);
      await expect(adapter.rotateSecret?.(clientId, context())).rejects.toMatchObject({ code: 'not_found' });
      idp.calls.length = 0;
      await expect(adapter.rotateSecret?.(clientId, context())).rejects.toMatchObject({ code: 'not_found' });
      expect(idp.calls).toEqual([`find ${clientId}`]);
      await adapter.deleteClient(clientId, context());
    },
  );

  it('keeps at most rememberClients clients, dropping the least recently used', async () => {
    const idp = memoryIdp({ handsOverCreated: true });
    const adapter = defineDcrAdapter(idp.primitives, { rememberClients: 2 });
    const [a, b, c] = [
      await adapter.createClient(registration(), context()),
      await adapter.createClient(registration(), context()),
      await adapter.createClient(registration(), context()),
    ];
    idp.calls.length = 0;
    for (const { clientId } of [c, b, a]) await adapter.rotateSecret?.(clientId, context());
    expect(idp.calls).toEqual([`rotate ${c.clientId}`, `rotate ${b.clientId}`, `find ${a.clientId}`, `rotate ${a.clientId}`]);
  });
});

describe('defineDcrAdapter: the current client (ClientContext.current)', () => {
  /** The memory IdP whose update writes back the client as `current()` gives it, asked twice, as a PUT of the whole client would. */
  function writingBackWhole() {
    const idp = memoryIdp({ handsOverCreated: true });
    const seen: MemoryClient[] = [];
    const adapter = defineDcrAdapter<MemoryClient>({
      ...idp.primitives,
      async replaceRedirectUris(clientId, _remembered, redirectUris, ctx) {
        const current = await ctx.current();
        seen.push(current, await ctx.current());
        idp.calls.push(`update ${clientId}`);
        idp.clients.set(clientId, { ...current, redirectUris });
      },
    });
    const update = (clientId: string) =>
      adapter.applyEvent?.(
        clientId,
        { type: 'update_application', redirectUris: ['https://app.example.com/cb'], application: {} as never },
        context(),
      );
    return { idp, adapter, seen, update };
  }

  it('is the read that proved the client ours in the same operation: no second read', async () => {
    const { idp, seen, update } = writingBackWhole();
    idp.clients.set('made-earlier', { name: 'app', secret: 's', redirectUris: [], ours: true });
    await update('made-earlier');
    expect(idp.calls).toEqual(['find made-earlier', 'update made-earlier']);
    expect(seen[0]).toBe(seen[1]);
  });

  it('reads a remembered client once, however often the primitive asks, and sees what changed at the IdP', async () => {
    const { idp, adapter, seen, update } = writingBackWhole();
    const { clientId } = await adapter.createClient(registration(), context());
    idp.clients.set(clientId, { ...idp.clients.get(clientId)!, name: 'renamed by an administrator' });
    idp.calls.length = 0;
    await update(clientId);
    expect(idp.calls).toEqual([`find ${clientId}`, `update ${clientId}`]);
    expect(seen.map((client) => client.name)).toEqual(['renamed by an administrator', 'renamed by an administrator']);
    expect(idp.clients.get(clientId)).toMatchObject({ name: 'renamed by an administrator', redirectUris: ['https://app.example.com/cb'] });
    // The fresh copy is remembered: an operation that does not ask reads nothing.
    idp.calls.length = 0;
    await adapter.rotateSecret?.(clientId, context());
    expect(idp.calls).toEqual([`rotate ${clientId}`]);
  });

  it('is not_found when the remembered client is gone, and forgets it', async () => {
    const { idp, adapter, update } = writingBackWhole();
    const { clientId } = await adapter.createClient(registration(), context());
    idp.clients.delete(clientId);
    await expect(update(clientId)).rejects.toMatchObject({ code: 'not_found' });
    idp.calls.length = 0;
    await expect(adapter.rotateSecret?.(clientId, context())).rejects.toMatchObject({ code: 'not_found' });
    expect(idp.calls).toEqual([`find ${clientId}`]);
  });

  it('is client_not_managed when the marker vanished at the IdP, writes nothing, and forgets the client', async () => {
    const { idp, adapter, update } = writingBackWhole();
    const { clientId } = await adapter.createClient(registration(), context());
    idp.clients.set(clientId, { ...idp.clients.get(clientId)!, ours: false });
    idp.calls.length = 0;
    await expect(update(clientId)).rejects.toMatchObject({ code: 'client_not_managed' });
    expect(idp.calls).toEqual([`find ${clientId}`]);
    await expect(adapter.rotateSecret?.(clientId, context())).rejects.toMatchObject({ code: 'client_not_managed' });
    expect(idp.calls).toEqual([`find ${clientId}`, `find ${clientId}`]);
  });

  it('hands find the context its primitives get in the operation, so that an adapter may keep what a read carried', async () => {
    const idp = memoryIdp();
    const seen: OperationContext[] = [];
    const find = idp.primitives.find.bind(idp.primitives);
    idp.primitives.find = (clientId, ctx) => (seen.push(ctx), find(clientId, ctx));
    const replace = idp.primitives.replaceRedirectUris!.bind(idp.primitives);
    idp.primitives.replaceRedirectUris = (clientId, client, uris, ctx) => (seen.push(ctx), replace(clientId, client, uris, ctx));
    idp.clients.set('made-earlier', { name: 'app', secret: 's', redirectUris: [], ours: true });
    const adapter = defineDcrAdapter(idp.primitives);
    await adapter.applyEvent?.('made-earlier', { type: 'update_application', redirectUris: [], application: {} as never }, context());
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
  });

  it('is the read core made itself when it settles a rotation in the background', async () => {
    const idp = memoryIdp({ handsOverCreated: true });
    const currents: string[] = [];
    const secrets = new Map<string, Array<{ id: string; secret: string }>>();
    let added = 0;
    const adapter = defineDcrAdapter<MemoryClient>({
      ...idp.primitives,
      rotateSecret: undefined,
      secrets: {
        max: 2,
        list: async (clientId) => (secrets.get(clientId) ?? []).map(({ id }) => ({ id })),
        async add(clientId) {
          const secret = { id: `s${++added}`, secret: `secret-${added}` };
          secrets.set(clientId, [...(secrets.get(clientId) ?? []), secret]);
          return secret;
        },
        async remove(clientId, _client, secretId, ctx) {
          currents.push((await ctx.current()).name);
          secrets.set(
            clientId,
            (secrets.get(clientId) ?? []).filter(({ id }) => id !== secretId),
          );
        },
      },
    });
    const { clientId } = await adapter.createClient(registration(), context());
    secrets.set(clientId, [{ id: 's0', secret: 'first' }]);
    idp.clients.set(clientId, { ...idp.clients.get(clientId)!, name: 'renamed' });
    idp.calls.length = 0;
    await adapter.rotateSecret?.(clientId, context());
    await adapter.drained?.();
    // The old secret is retired after the answer, in work of its own: its current() reads the client once.
    expect(currents).toEqual(['renamed']);
    expect(idp.calls).toEqual([`find ${clientId}`]);
    expect(secrets.get(clientId)?.map(({ id }) => id)).toEqual(['s1']);
  });
});

/** A journal driver several processes share, as PostgreSQL is: its `exclusive` queues works by name. */
function sharedDriver() {
  const driver = createMemoryDriver();
  const tails = new Map<string, Promise<unknown>>();
  const locked: string[] = [];
  return {
    locked,
    driver: {
      ...driver,
      exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
        locked.push(name);
        const result = (tails.get(name) ?? Promise.resolve()).then(work, work);
        tails.set(
          name,
          result.catch(() => undefined),
        );
        return result;
      },
    },
  };
}

describe('defineDcrAdapter: a journal shared by several replicas', () => {
  it('serializes the operations on one client across replicas, under the driver lock on that client', async () => {
    const idp = memoryIdp();
    const shared = sharedDriver();
    const journal = createJsonStore(shared.driver);
    const [a, b] = [defineDcrAdapter(idp.primitives, { journal }), defineDcrAdapter(idp.primitives, { journal })];
    const { clientId } = await a.createClient(registration(), context());
    const event = { type: 'update_application' as const, redirectUris: ['https://new.example/cb'], application: {} as never };
    await Promise.all([
      a.rotateSecret?.(clientId, context()),
      b.applyEvent?.(clientId, event, context()),
      b.rotateSecret?.(clientId, context()),
      a.deleteClient(clientId, context()),
    ]);
    expect(idp.maxRunning()).toBe(1);
    expect(shared.locked.filter((name) => name === `dcr-bridge/client/${clientId}`)).toHaveLength(4);
    expect(idp.clients.has(clientId)).toBe(false);
  });

  it('leaves alone the creates another live replica may still be working on', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(sharedDriver().driver);
    const a = defineDcrAdapter(idp.primitives, { journal });
    let answer!: (value: boolean) => void;
    const { clientId } = await a.createClient(registration(), context({ answered: new Promise((resolve) => (answer = resolve)) }));
    await journal.set(`${JOURNAL_PREFIX}young001`, {
      nonce: 'young001',
      clientName: 'Under way',
      startedAt: new Date().toISOString(),
      clientId: 'client-elsewhere',
    });
    idp.clients.set('client-elsewhere', { name: 'x', secret: 's', redirectUris: [], ours: true });
    const b = defineDcrAdapter(idp.primitives, { journal, ...fast });
    expect(await b.recover?.({ inFlightMs: 60_000 })).toEqual({
      open: 0,
      undone: 0,
      neverCreated: 0,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    expect(idp.clients.has('client-elsewhere')).toBe(true);
    answer(true);
    await a.drained?.();
    expect(idp.clients.has(clientId)).toBe(true);
    await b.close?.();
  });

  it('finishes the creates of a replica that died, once they are old enough, without a restart', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(sharedDriver().driver);
    idp.clients.set('orphan-old', { name: 'x', secret: 's', redirectUris: [], ours: true });
    idp.clients.set('orphan-new', { name: 'y', secret: 's', redirectUris: [], ours: true });
    await journal.set(`${JOURNAL_PREFIX}old00001`, {
      nonce: 'old00001',
      clientName: 'Old',
      startedAt: '2026-01-01T00:00:00.000Z',
      clientId: 'orphan-old',
    });
    await journal.set(`${JOURNAL_PREFIX}new00001`, {
      nonce: 'new00001',
      clientName: 'New',
      startedAt: new Date().toISOString(),
      clientId: 'orphan-new',
    });
    const survivor = defineDcrAdapter(idp.primitives, { journal, ...fast });
    expect(await survivor.recover?.({ inFlightMs: 100 })).toEqual({
      open: 1,
      undone: 1,
      neverCreated: 0,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    expect(idp.clients.has('orphan-old')).toBe(false);
    expect(idp.clients.has('orphan-new')).toBe(true);
    await expect.poll(() => idp.clients.has('orphan-new'), { timeout: 2_000 }).toBe(false);
    expect(await openEntries(journal)).toEqual([]);
    await survivor.close?.();
  });

  it('is not ready when a permission check fails (an account that may read but not write), checked at most once per TTL', async () => {
    const idp = memoryIdp();
    let runs = 0;
    let manage = false;
    const adapter = defineDcrAdapter(
      {
        ...idp.primitives,
        diagnostics: {
          adminUrl: 'https://idp.example.com',
          tokenEndpoint: async () => 'https://idp.example.com/token',
          checkPermissions: async () => {
            runs++;
            return [
              { name: 'view-clients', result: 'pass' },
              manage
                ? { name: 'manage-clients', result: 'pass' }
                : { name: 'manage-clients', result: 'fail', fix: 'assign the role manage-clients' },
            ];
          },
        },
      },
      { permissionCheckTtlMs: 100 },
    );
    expect(await adapter.checkReady(context())).toMatchObject({
      ready: false,
      reason: 'idp_error',
      missingPermissions: ['manage-clients'],
    });
    expect(await adapter.checkReady(context())).toMatchObject({ ready: false });
    expect(runs).toBe(1);
    manage = true;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await adapter.checkReady(context())).toEqual({ ready: true });
    expect(runs).toBe(2);
  });

  it('is not ready while the shared journal is down, and creates nothing it could not journal', async () => {
    const idp = memoryIdp();
    const shared = sharedDriver();
    let down = false;
    const failWhenDown = async () => {
      if (down) throw new Error('PostgreSQL store 127.0.0.1:5432/dcr is unreachable');
    };
    const driver = {
      ...shared.driver,
      check: failWhenDown,
      set: async (key: string, value: string) => (await failWhenDown(), shared.driver.set(key, value)),
    };
    const adapter = defineDcrAdapter(idp.primitives, { journal: createJsonStore(driver) });
    expect(await adapter.checkReady(context())).toEqual({ ready: true });
    down = true;
    expect(await adapter.checkReady(context())).toEqual({
      ready: false,
      detail: expect.stringContaining('unreachable'),
      reason: 'store_unavailable',
    });
    await expect(adapter.createClient(registration(), context())).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
    expect(idp.calls).not.toContain('create');
    expect(idp.clients.size).toBe(0);
  });

  it('finishes each entry once when two replicas recover at the same time', async () => {
    const idp = memoryIdp();
    const journal = createJsonStore(sharedDriver().driver);
    idp.clients.set('orphan', { name: 'x', secret: 's', redirectUris: [], ours: true });
    await journal.set(`${JOURNAL_PREFIX}dead0001`, {
      nonce: 'dead0001',
      clientName: 'Dead',
      startedAt: '2026-01-01T00:00:00.000Z',
      clientId: 'orphan',
    });
    const [a, b] = [defineDcrAdapter(idp.primitives, { journal, ...fast }), defineDcrAdapter(idp.primitives, { journal, ...fast })];
    const reports = await Promise.all([a.recover?.({ inFlightMs: 60_000 }), b.recover?.({ inFlightMs: 60_000 })]);
    expect(reports.map((report) => report?.undone).sort()).toEqual([0, 1]);
    expect(idp.calls.filter((call) => call === 'remove orphan')).toHaveLength(1);
    await Promise.all([a.close?.(), b.close?.()]);
  });
});
