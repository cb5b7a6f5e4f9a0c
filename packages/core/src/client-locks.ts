/**
 * One operation per client at a time: `run` starts `work` when every earlier work on the same client id has
 * settled. With a shared driver's lock (`StoreDriver.exclusive`, PostgreSQL), `work` then also holds that lock
 * on the client, so other processes queue too.
 */
export class ClientLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly shared?: <T>(name: string, work: () => Promise<T>) => Promise<T>) {}

  run<T>(clientId: string, work: () => Promise<T>): Promise<T> {
    const { shared } = this;
    const locked = shared ? () => shared(`dcr-bridge/client/${clientId}`, work) : work;
    const previous = this.tails.get(clientId) ?? Promise.resolve();
    const result = previous.then(locked, locked);
    const tail = result.catch(() => undefined);
    this.tails.set(clientId, tail);
    void tail.then(() => {
      if (this.tails.get(clientId) === tail) this.tails.delete(clientId);
    });
    return result;
  }

  /**
   * As `run`, for work whose result leaves before the work is over: `result` is handed back as soon as `work`
   * gives it, and the lock is held until `hold` settles too (a rotation holds its client until Konnect's
   * connection took the answer, so that the next operation on the client knows which secret Konnect has).
   */
  runHolding<T>(clientId: string, work: () => Promise<{ result: T; hold: Promise<unknown> }>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.run(clientId, async () => {
        let outcome: { result: T; hold: Promise<unknown> };
        try {
          outcome = await work();
        } catch (error) {
          reject(error);
          return;
        }
        resolve(outcome.result);
        await outcome.hold.catch(() => undefined);
      }).catch(reject);
    });
  }
}
