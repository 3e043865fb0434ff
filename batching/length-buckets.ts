// Waiting texts grouped by padded length (one first-in-first-out bucket per step of `step` tokens), so that a
// batch can be filled with the texts nearest in length to its anchor: less padding for the model to compute.
import { Fifo } from './fifo.js';

export interface Bucketed {
  /** Length the text is padded to in its batch. */
  paddedLength: number;
}

export class LengthBuckets<T extends Bucketed> {
  readonly #buckets = new Map<number, Fifo<T>>();
  /** Largest key in use: kept as items come and buckets empty, never recomputed per batch. */
  #maxKey = 0;

  /**
   * @param step       bucket width in tokens (the padding multiple)
   * @param isWaiting  false for items that left by another way; they are dropped from the buckets lazily
   */
  constructor(readonly step: number, readonly isWaiting: (item: T) => boolean) {}

  add(item: T): void {
    const key = this.#keyOf(item.paddedLength);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new Fifo();
      this.#buckets.set(key, bucket);
      if (key > this.#maxKey) this.#maxKey = key;
    }
    bucket.push(item);
  }

  /**
   * The buckets by nearness of length to `anchorLength`: its own first, then one step shorter, one step
   * longer, and so on. Each bucket is trimmed of settled items at its front before it is given out.
   */
  *nearest(anchorLength: number): Generator<Fifo<T>> {
    const anchor = this.#keyOf(anchorLength);
    for (let distance = 0; anchor - distance >= 1 || anchor + distance <= this.#maxKey; distance++) {
      for (const key of distance === 0 ? [anchor] : [anchor - distance, anchor + distance]) {
        const bucket = this.#trimmed(key);
        if (bucket) yield bucket;
      }
    }
  }

  #keyOf(paddedLength: number): number {
    return Math.max(1, Math.ceil(paddedLength / this.step));
  }

  #trimmed(key: number): Fifo<T> | undefined {
    const bucket = this.#buckets.get(key);
    if (!bucket) return undefined;
    while (bucket.length > 0 && !this.isWaiting(bucket.peek()!)) bucket.shift();
    if (bucket.length > 0) return bucket;
    this.#buckets.delete(key);
    if (key === this.#maxKey) {
      this.#maxKey = 0;
      for (const other of this.#buckets.keys()) if (other > this.#maxKey) this.#maxKey = other;
    }
    return undefined;
  }
}
