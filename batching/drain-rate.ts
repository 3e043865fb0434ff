// How fast the workers empty the queue and how long one batch runs, smoothed over finished batches: what
// Retry-After is computed from, and what tells the batcher a text cannot be answered before its deadline.

/** Weight of the newest batch in the smoothed figures. */
const SMOOTHING = 0.2;

export class DrainRate {
  /** Texts per second the workers complete, smoothed; 0 until the first batch ends. */
  #textsPerSecond = 0;
  /** Wall time of one batch, smoothed; 0 until the first batch ends. */
  #batchMs = 0;

  /** A batch of `size` texts took `runMs` on one of `concurrency` workers running side by side. */
  observe(size: number, concurrency: number, runMs: number): void {
    if (runMs <= 0) return;
    const rate = (size * concurrency * 1000) / runMs;
    this.#textsPerSecond = this.#textsPerSecond === 0 ? rate : this.#textsPerSecond + SMOOTHING * (rate - this.#textsPerSecond);
    this.#batchMs = this.#batchMs === 0 ? runMs : this.#batchMs + SMOOTHING * (runMs - this.#batchMs);
  }

  /** Smoothed wall time of one batch, ms; 0 before any measurement. */
  get batchMs(): number {
    return this.#batchMs;
  }

  /**
   * About how long until the last of `waiting` texts (queued now) is answered: the queue drained at the
   * measured rate, plus the run of that last text's own batch; 0 before any measurement (nothing is known,
   * so nothing is refused for it).
   */
  msToFinish(waiting: number): number {
    if (this.#textsPerSecond <= 0) return 0;
    return (waiting / this.#textsPerSecond) * 1000 + this.#batchMs;
  }

  /** Whole seconds until `waiting` texts are drained at the measured rate; 1 before any measurement. */
  secondsToDrain(waiting: number): number {
    if (this.#textsPerSecond <= 0) return 1;
    return Math.max(1, Math.ceil(waiting / this.#textsPerSecond));
  }
}
