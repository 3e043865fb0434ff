// Server-side facts of a run from the replicas' own /metrics (core/metrics.ts): scraped before and after
// the measured window, the differences give the mean batch size, queue wait, inference time and padding.

/** The sums and counts of the histograms that the results report, summed over every replica. */
export interface MetricTotals {
  batchSizeSum: number;
  batchSizeCount: number;
  queueWaitSum: number;
  queueWaitCount: number;
  inferenceSum: number;
  inferenceCount: number;
  realTokens: number;
  paddedTokens: number;
  rejections: number;
  aborted: number;
  cacheHits: number;
  cacheLookups: number;
  tokenizeTasks: number;
  tokenizeSum: number;
  modelRuns: number;
  shadowCompared: number;
  shadowAgreed: number;
  shadowSkipped: number;
}

export interface ServerSideStats {
  /** Texts per batch. */
  meanBatchSize: number | null;
  /** Milliseconds a text waited in the queue before its batch started. */
  meanQueueWaitMs: number | null;
  /** Milliseconds per batch in a worker. */
  meanInferenceMs: number | null;
  /**
   * Texts per task that tokenized (a tokenizer thread's, in the design that had them; a batch's, where
   * workers tokenize the batches they run).
   */
  meanTextsPerTokenizeTask: number | null;
  /** Texts per ONNX Runtime run (null where the service does not count runs). */
  meanTextsPerRun: number | null;
  /** Milliseconds per tokenizer task, in the worker. */
  meanTokenizeMs: number | null;
  /** Padded tokens ÷ real tokens (1 = no padding). */
  paddingRatio: number | null;
  batches: number;
  /** Texts refused or dropped before inference: queue full, deadline, worker crash, shutting down. */
  rejections: number;
  /**
   * Texts dropped because their client went away: the load generator closes its connections with requests
   * in flight when the measured window ends, so a few hundred here are expected and harmless.
   */
  aborted: number;
  /** Share of texts answered from the prediction cache (benchmarks run with CACHE_SIZE=0: null or 0). */
  cacheHitRatio: number | null;
  /**
   * With a shadow candidate (SHADOW_MODEL_PATH): the live texts it scored too, their share given the live label,
   * and the sampled texts it skipped (the live queue was not empty, or its own was full).
   */
  shadow?: { compared: number; agreement: number | null; skipped: number };
}

const ZERO: MetricTotals = {
  batchSizeSum: 0, batchSizeCount: 0, queueWaitSum: 0, queueWaitCount: 0, inferenceSum: 0, inferenceCount: 0,
  realTokens: 0, paddedTokens: 0, rejections: 0, aborted: 0, cacheHits: 0, cacheLookups: 0, tokenizeTasks: 0, tokenizeSum: 0,
  modelRuns: 0,
  shadowCompared: 0, shadowAgreed: 0, shadowSkipped: 0,
};

/** Sum of every sample of `name` whose labels contain `labelFilter` (Prometheus text format). */
export function sampleSum(text: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter !== '' && !rest.includes(labelFilter)) continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export function parseTotals(text: string): MetricTotals {
  return {
    batchSizeSum: sampleSum(text, 'sentiment_batch_size_sum'),
    batchSizeCount: sampleSum(text, 'sentiment_batch_size_count'),
    queueWaitSum: sampleSum(text, 'sentiment_queue_wait_seconds_sum'),
    queueWaitCount: sampleSum(text, 'sentiment_queue_wait_seconds_count'),
    inferenceSum: sampleSum(text, 'sentiment_inference_seconds_sum'),
    inferenceCount: sampleSum(text, 'sentiment_inference_seconds_count'),
    realTokens: sampleSum(text, 'sentiment_tokens_total', 'kind="real"'),
    paddedTokens: sampleSum(text, 'sentiment_tokens_total', 'kind="padded"'),
    rejections: sampleSum(text, 'sentiment_rejections_total') - sampleSum(text, 'sentiment_rejections_total', 'reason="aborted"'),
    aborted: sampleSum(text, 'sentiment_rejections_total', 'reason="aborted"'),
    cacheHits: sampleSum(text, 'sentiment_cache_lookups_total', 'result="hit"'),
    cacheLookups: sampleSum(text, 'sentiment_cache_lookups_total'),
    tokenizeTasks: sampleSum(text, 'sentiment_tokenization_seconds_count'),
    tokenizeSum: sampleSum(text, 'sentiment_tokenization_seconds_sum'),
    modelRuns: sampleSum(text, 'sentiment_model_runs_total'),
    shadowCompared: sampleSum(text, 'sentiment_shadow_compared_total'),
    shadowAgreed: sampleSum(text, 'sentiment_shadow_agreed_total'),
    shadowSkipped: sampleSum(text, 'sentiment_shadow_skipped_total'),
  };
}

/** Totals over the replicas' /metrics (base URLs); replicas that do not answer count as zero. */
export async function scrapeTotals(urls: readonly string[]): Promise<MetricTotals> {
  const totals = { ...ZERO };
  for (const url of urls) {
    try {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) continue;
      const one = parseTotals(await response.text());
      for (const key of Object.keys(totals) as (keyof MetricTotals)[]) totals[key] += one[key];
    } catch {
      // a replica without /metrics (the baselines) or not answering
    }
  }
  return totals;
}

export function serverSideStats(before: MetricTotals, after: MetricTotals): ServerSideStats {
  const d = (key: keyof MetricTotals) => after[key] - before[key];
  const ratio = (a: number, b: number, scale = 1) => (b > 0 ? (a / b) * scale : null);
  return {
    meanBatchSize: ratio(d('batchSizeSum'), d('batchSizeCount')),
    meanQueueWaitMs: ratio(d('queueWaitSum'), d('queueWaitCount'), 1000),
    meanInferenceMs: ratio(d('inferenceSum'), d('inferenceCount'), 1000),
    meanTextsPerTokenizeTask: ratio(d('batchSizeSum'), d('tokenizeTasks')),
    meanTextsPerRun: ratio(d('batchSizeSum'), d('modelRuns')),
    meanTokenizeMs: ratio(d('tokenizeSum'), d('tokenizeTasks'), 1000),
    paddingRatio: ratio(d('paddedTokens'), d('realTokens')),
    batches: d('batchSizeCount'),
    rejections: d('rejections'),
    aborted: d('aborted'),
    cacheHitRatio: ratio(d('cacheHits'), d('cacheLookups')),
    ...(d('shadowCompared') + d('shadowSkipped') > 0
      ? { shadow: { compared: d('shadowCompared'), agreement: ratio(d('shadowAgreed'), d('shadowCompared')), skipped: d('shadowSkipped') } }
      : {}),
  };
}
