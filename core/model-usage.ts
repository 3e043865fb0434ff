// What is still running on each model, so that a swapped-out model's workers stop only once nothing uses
// them: every call holds its model until all of its promises have settled.
export class ModelUsage {
  readonly #calls = new Map<object, { count: number; released?: () => void }>();

  hold(model: object, work: readonly Promise<unknown>[]): void {
    const usage = this.#calls.get(model) ?? { count: 0 };
    this.#calls.set(model, usage);
    usage.count++;
    void Promise.allSettled(work).then(() => {
      if (--usage.count > 0) return;
      this.#calls.delete(model);
      usage.released?.();
    });
  }

  /** Resolves once no call holds `model`. */
  released(model: object): Promise<void> {
    const usage = this.#calls.get(model);
    if (!usage) return Promise.resolve();
    return new Promise((resolve) => { usage.released = resolve; });
  }
}
