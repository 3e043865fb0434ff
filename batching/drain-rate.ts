// How fast the workers empty the queue, smoothed over finished batches: what Retry-After is computed from.

/** Weight of the newest batch in the smoothed rate. */
const SMOOTHING = 0.2;

export class DrainRate {
  /** Texts per second the workers complete, smoothed; 0 until the first batch ends. */
  #textsPerSecond = 0;

  /** A batch of `size` texts took `runMs` on one of `concurrency` workers running side by side. */
  observe(size: number, concurrency: number, runMs: number): void {
    if (runMs <= 0) return;
    const rate = (size * concurrency * 1000) / runMs;
    this.#textsPerSecond = this.#textsPerSecond === 0 ? rate : this.#textsPerSecond + SMOOTHING * (rate - this.#textsPerSecond);
  }

  /** Whole seconds until `waiting` texts are drained at the measured rate; 1 before any measurement. */
  secondsToDrain(waiting: number): number {
    if (this.#textsPerSecond <= 0) return 1;
    return Math.max(1, Math.ceil(waiting / this.#textsPerSecond));
  }
}
