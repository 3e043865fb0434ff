// What is still running on each model, so that a swapped-out model's workers stop only once nothing uses
// them: a call holds its model from the moment it takes it until every text it queued has settled.
export class ModelUsage {
  readonly #holders = new Map<object, { count: number; released?: () => void }>();

  acquire(model: object): void {
    const usage = this.#holders.get(model);
    if (usage) usage.count++;
    else this.#holders.set(model, { count: 1 });
  }

  release(model: object): void {
    const usage = this.#holders.get(model);
    if (!usage || --usage.count > 0) return;
    this.#holders.delete(model);
    usage.released?.();
  }

  /** Holds `model` until `work` settles. */
  hold<T>(model: object, work: Promise<T>): Promise<T> {
    this.acquire(model);
    return work.finally(() => this.release(model));
  }

  /** Resolves once no call holds `model`. */
  released(model: object): Promise<void> {
    const usage = this.#holders.get(model);
    if (!usage) return Promise.resolve();
    return new Promise((resolve) => { usage.released = resolve; });
  }
}
