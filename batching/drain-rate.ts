// How fast the workers empty the queue and how long one batch runs, smoothed over finished batches: what
// Retry-After is computed from, and what tells the batcher a text cannot be answered before its deadline.

/** Weight of the newest batch in the smoothed figures. */
const SMOOTHING = 0.2;

export class DrainRate {
  /** Texts per second the workers complete, smoothed; 0 until the first batch ends. */
  #textsPerSecond = 0;
  /** Wall time of one batch, smoothed; 0 until the first batch ends. */
  #batchMs = 0;
  /** Mean deviation of a batch's wall time from #batchMs, smoothed. */
  #batchDeviationMs = 0;

  /** A batch of `size` texts took `runMs` on one of `concurrency` workers running side by side. */
  observe(size: number, concurrency: number, runMs: number): void {
    if (runMs <= 0) return;
    const rate = (size * concurrency * 1000) / runMs;
    this.#textsPerSecond = this.#textsPerSecond === 0 ? rate : this.#textsPerSecond + SMOOTHING * (rate - this.#textsPerSecond);
    if (this.#batchMs === 0) {
      this.#batchMs = runMs;
      return;
    }
    const error = runMs - this.#batchMs;
    this.#batchMs += SMOOTHING * error;
    this.#batchDeviationMs += SMOOTHING * (Math.abs(error) - this.#batchDeviationMs);
  }

  /**
   * How long a batch may take, ms: the smoothed time plus four mean deviations, as TCP bounds a round trip
   * (RFC 6298), so that a text started this long before its deadline is answered by it even when batch
   * times vary (a heavy model on busy cores); 0 before any measurement.
   */
  get batchBoundMs(): number {
    return this.#batchMs + 4 * this.#batchDeviationMs;
  }

  /**
   * About how long until the last of `waiting` texts (queued now) is answered: the queue drained at the
   * measured rate, plus the longest a batch may take (batchBoundMs); 0 before any measurement (nothing is known,
   * so nothing is refused for it).
   */
  msToFinish(waiting: number): number {
    if (this.#textsPerSecond <= 0) return 0;
    return (waiting / this.#textsPerSecond) * 1000 + this.batchBoundMs;
  }

  /** Whole seconds until `waiting` texts are drained at the measured rate; 1 before any measurement. */
  secondsToDrain(waiting: number): number {
    if (this.#textsPerSecond <= 0) return 1;
    return Math.max(1, Math.ceil(waiting / this.#textsPerSecond));
  }
}
