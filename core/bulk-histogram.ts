// A Prometheus histogram that takes its observations in bulk: a batch's values are counted into buckets by
// the caller (one pass it makes anyway) and added here once per batch. The client's Histogram observes one
// value at a time, hashing its labels on every call; this is the same series, exported in the same text
// format (cumulative `_bucket{le}`, `_sum`, `_count`), through the client's registry (@prometheus-io/client).
import type client from '@prometheus-io/client';

export interface BulkHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending; +Inf is added. */
  buckets: readonly number[];
  registers: client.Registry[];
}

/** One labelled series: counts per bucket (not cumulative; the last one is +Inf), sum and count. */
export class BulkHistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>, buckets: number) {
    this.counts = new Float64Array(buckets + 1);
  }

  /** Adds a batch's observations: `counts[b]` values in bucket b (the first upper bound at or above them), summing to `sum`. */
  add(counts: ArrayLike<number>, sum: number, count: number): void {
    for (let b = 0; b < this.counts.length; b++) this.counts[b]! += counts[b]!;
    this.sum += sum;
    this.count += count;
  }
}

export class BulkHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly buckets: readonly number[];
  readonly #labelNames: readonly L[];
  readonly #series = new Map<string, BulkHistogramSeries>();

  constructor(options: BulkHistogramOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.buckets = options.buckets;
    this.#labelNames = options.labelNames;
    // The client's registry takes any object with its Metric's name, help, type and get().
    for (const registry of options.registers) registry.registerMetric(this as unknown as client.Metric);
  }

  /** The series of these label values (created at 0 the first time, so that it is exported from then on). */
  series(labels: Readonly<Record<L, string>>): BulkHistogramSeries {
    const key = this.#labelNames.map((name) => labels[name]).join('\u0000');
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new BulkHistogramSeries(labels, this.buckets.length);
      this.#series.set(key, series);
    }
    return series;
  }

  reset(): void {
    this.#series.clear();
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let b = 0; b <= this.buckets.length; b++) {
        cumulative += series.counts[b]!;
        values.push({ labels: { ...series.labels, le: b < this.buckets.length ? this.buckets[b]! : '+Inf' }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
