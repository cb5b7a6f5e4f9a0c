/**
 * Whether Konnect got the answer to one request: settled once (the first value wins), and read as a promise
 * (`OperationContext.answered`) that is made only when someone asks, so most requests never make one. A reader
 * that asks after it settled gets the value at once.
 */
export class AnswerOutcome {
  private value: boolean | undefined;
  private resolve: ((value: boolean) => void) | undefined;
  private promise: Promise<boolean> | undefined;

  settle(value: boolean): void {
    if (this.value !== undefined) return;
    this.value = value;
    this.resolve?.(value);
  }

  get settled(): Promise<boolean> {
    this.promise ??= this.value !== undefined ? Promise.resolve(this.value) : new Promise<boolean>((resolve) => (this.resolve = resolve));
    return this.promise;
  }
}
