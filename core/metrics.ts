// The service's own Prometheus metrics, on a registry of its own (one per app, so tests can build several).
// HTTP request metrics and the process/Node.js defaults are added by fastify-metrics in server/app.ts, on
// the same registry. Names are what the Grafana dashboard and the alert rules in deploy/ query.
// On the hot path they are fed once per batch or per call, never per text, through label children bound
// once (a labelled inc() looks its child up by hashing the labels every time).
import client from '@prometheus-io/client';
import type { BatcherObserver } from '../batching/batcher.js';
import type { RejectionReason } from '../batching/errors.js';
import type { ProblemType } from '../inference/model-head.js';
import type { ScoredBatch } from '../inference/protocol.js';
import { BulkHistogram, type BulkHistogramSeries } from './bulk-histogram.js';
import { CONFIDENCE_BUCKETS, type PredictionTally } from './prediction-tally.js';
import { ShadowMetrics } from './shadow-metrics.js';

/** Every reason a text leaves without an answer: each series exists from the start, at 0. */
const REJECTION_REASONS = ['queue_full', 'deadline', 'aborted', 'sibling_failed', 'closed', 'worker_crashed'] as const satisfies readonly (RejectionReason | 'worker_crashed')[];
type Reason = (typeof REJECTION_REASONS)[number];
type CounterChild = ReturnType<client.Counter<string>['labels']>;

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the metrics of one model version are labelled with. */
export interface ModelIdentity {
  labels: readonly string[];
  problemType: ProblemType;
  version: string;
}

/** The series of one model version that the monitoring of its predictions feeds, bound once. */
class ModelSeries {
  readonly #labels: CounterChild[];
  readonly #confidence: BulkHistogramSeries;
  readonly #truncated: CounterChild;

  constructor(metrics: ServiceMetrics, model: ModelIdentity) {
    const version = model.version;
    // A regression predicts no label: no label series.
    this.#labels = model.problemType === 'regression' ? [] : model.labels.map((label) => atZero(metrics.predictedLabels.labels(label, version)));
    this.#confidence = metrics.confidence.series({ model_version: version });
    this.#truncated = atZero(metrics.truncatedTexts.labels(version));
  }

  add(tally: PredictionTally): void {
    for (let k = 0; k < this.#labels.length; k++) if (tally.labels[k] !== 0) this.#labels[k]!.inc(tally.labels[k]);
    if (tally.confidenceCount > 0) this.#confidence.add(tally.confidence, tally.confidenceSum, tally.confidenceCount);
    if (tally.truncated > 0) this.#truncated.inc(tally.truncated);
  }
}

/** Every series appears from the start, at 0 (a bound child is only listed once it has counted), so that rate() and alert expressions have one to read. */
function atZero(child: CounterChild): CounterChild {
  child.inc(0);
  return child;
}

export interface QueueGauges {
  depth(): number;
  inFlight(): number;
  capacity(): number;
}

export class ServiceMetrics {
  readonly registry = new client.Registry();
  readonly batchSize: client.Histogram;
  readonly batchPaddedTokens: client.Histogram;
  readonly queueWait: client.Histogram;
  readonly tokenization: client.Histogram;
  /** Observed from the worker's own timing, which excludes the wait for a free worker. */
  readonly inference: client.Histogram;
  readonly tokens: client.Counter<'kind'>;
  readonly modelRuns: client.Counter;
  readonly rejections: client.Counter<'reason'>;
  readonly predictedLabels: client.Counter<'label' | 'model_version'>;
  readonly confidence: BulkHistogram<'model_version'>;
  readonly truncatedTexts: client.Counter<'model_version'>;
  /** Prediction requests answered, and their texts, by API key (its name, else its id; never the key). */
  readonly keyRequests: client.Counter<'key'>;
  readonly keyTexts: client.Counter<'key'>;
  readonly shadow: ShadowMetrics;
  readonly workerRestarts: client.Counter;
  readonly cacheLookups: client.Counter<'result' | 'source'>;
  /** Redis commands that failed or timed out; each one a rate-limit check allowed or a cache miss. */
  readonly redisFailures: client.Counter<'use'>;
  readonly modelReloads: client.Counter<'result'>;
  readonly modelInfo: client.Gauge<'name' | 'sha256' | 'device' | 'provider'>;
  readonly requestsInFlight: client.Gauge;
  readonly #realTokens: CounterChild;
  readonly #paddedTokens: CounterChild;
  readonly #rejectionsBy = new Map<Reason, CounterChild>();
  /** Series by model sha256. */
  readonly #models = new Map<string, ModelSeries>();
  /** [requests, texts] by key label. */
  readonly #keys = new Map<string, [CounterChild, CounterChild]>();
  /** Cache lookups by `${result}/${source}`. */
  readonly #lookupsBy = new Map<string, CounterChild>();

  constructor(queue: QueueGauges) {
    const registers = [this.registry];
    new client.Gauge({
      name: 'sentiment_queue_depth', help: 'Texts waiting to be batched', registers,
      collect() { this.set(queue.depth()); },
    });
    new client.Gauge({
      name: 'sentiment_queue_capacity', help: 'Texts the queue holds before it sheds with 503 (MAX_QUEUE)', registers,
      collect() { this.set(queue.capacity()); },
    });
    new client.Gauge({
      name: 'sentiment_batches_in_flight', help: 'Batches handed to the workers and not finished', registers,
      collect() { this.set(queue.inFlight()); },
    });
    this.batchSize = new client.Histogram({
      name: 'sentiment_batch_size', help: 'Texts per batch (one task of an inference worker)', registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    });
    this.batchPaddedTokens = new client.Histogram({
      name: 'sentiment_batch_padded_tokens', help: 'Padded tokens per batch (each ONNX Runtime run\'s texts × its longest padded length, summed)', registers,
      buckets: client.exponentialBuckets(8, 2, 14),
    });
    this.queueWait = new client.Histogram({
      name: 'sentiment_queue_wait_seconds', help: 'Time a text waited in the queue before its batch started', registers,
      buckets: SECONDS_BUCKETS,
    });
    this.tokenization = new client.Histogram({
      name: 'sentiment_tokenization_seconds', help: 'Tokenization time per batch, in its inference worker', registers,
      buckets: SECONDS_BUCKETS,
    });
    this.inference = new client.Histogram({
      name: 'sentiment_inference_seconds', help: 'Time per batch in its inference worker (tokenizing, tensor building, ONNX Runtime, softmax)', registers,
      buckets: SECONDS_BUCKETS,
    });
    this.tokens = new client.Counter({
      name: 'sentiment_tokens_total', help: 'Tokens run by the model: kind="real" the texts\' own, kind="padded" including padding', registers,
      labelNames: ['kind'],
    });
    this.modelRuns = new client.Counter({
      name: 'sentiment_model_runs_total', help: 'ONNX Runtime runs: a worker cuts each batch into runs of texts of similar length (texts ÷ runs is the mean run size)', registers,
    });
    this.rejections = new client.Counter({
      name: 'sentiment_rejections_total', help: 'Texts refused or dropped before inference, by reason', registers,
      labelNames: ['reason'],
    });
    this.predictedLabels = new client.Counter({
      name: 'sentiment_predicted_label_total', help: 'Predictions returned (computed or cached), by predicted label and model version (a multi-label model counts each label it predicts; a regression none)', registers,
      labelNames: ['label', 'model_version'],
    });
    this.confidence = new BulkHistogram({
      name: 'sentiment_prediction_confidence', help: 'The predicted label\'s probability (a multi-label model: its highest label\'s), per prediction returned, by model version', registers,
      labelNames: ['model_version'], buckets: CONFIDENCE_BUCKETS,
    });
    this.truncatedTexts = new client.Counter({
      name: 'sentiment_truncated_texts_total', help: 'Predictions returned for texts that had more tokens than the model reads and were cut, by model version', registers,
      labelNames: ['model_version'],
    });
    this.keyRequests = new client.Counter({
      name: 'sentiment_key_requests_total', help: 'Prediction requests answered, by API key name (its id, 16 hex digits of its sha256, when unnamed; "anonymous" when API_KEYS is off)', registers,
      labelNames: ['key'],
    });
    this.keyTexts = new client.Counter({
      name: 'sentiment_key_texts_total', help: 'Texts answered by prediction requests, by API key name (as sentiment_key_requests_total)', registers,
      labelNames: ['key'],
    });
    this.shadow = new ShadowMetrics(registers);
    this.workerRestarts = new client.Counter({
      name: 'sentiment_worker_restarts_total', help: 'Inference workers that died and were replaced', registers,
    });
    this.cacheLookups = new client.Counter({
      name: 'sentiment_cache_lookups_total', help: 'Texts looked up in the prediction cache: result hit|miss, source memory|redis (the last layer asked)', registers,
      labelNames: ['result', 'source'],
    });
    this.redisFailures = new client.Counter({
      name: 'sentiment_redis_failures_total', help: 'Redis commands that failed or timed out, by use: rate_limit (the request was allowed unchecked), cache (treated as a miss, or not stored)', registers,
      labelNames: ['use'],
    });
    this.modelReloads = new client.Counter({
      name: 'sentiment_model_reloads_total', help: 'Model reloads, by result (swapped, rejected)', registers,
      labelNames: ['result'],
    });
    this.requestsInFlight = new client.Gauge({
      name: 'sentiment_http_requests_in_flight', help: 'HTTP requests received and not yet answered (/metrics itself excluded)', registers,
    });
    this.modelInfo = new client.Gauge({
      name: 'sentiment_model_info', help: 'The model being served (value 1), with its name, sha256, device and execution provider', registers,
      labelNames: ['name', 'sha256', 'device', 'provider'],
    });
    for (const reason of REJECTION_REASONS) this.#rejectionsBy.set(reason, atZero(this.rejections.labels(reason)));
    for (const result of ['swapped', 'rejected'] as const) atZero(this.modelReloads.labels(result));
    for (const use of ['rate_limit', 'cache'] as const) atZero(this.redisFailures.labels(use));
    this.#realTokens = atZero(this.tokens.labels('real'));
    this.#paddedTokens = atZero(this.tokens.labels('padded'));
    for (const result of ['hit', 'miss'] as const) {
      for (const source of ['memory', 'redis'] as const) this.#lookupsBy.set(`${result}/${source}`, this.cacheLookups.labels(result, source));
    }
  }

  setModel(model: ModelIdentity & { name: string; sha256: string; device: string; executionProviders: readonly string[] }): void {
    this.modelInfo.reset();
    this.modelInfo.set({ name: model.name, sha256: model.sha256, device: model.device, provider: model.executionProviders[0] ?? model.device }, 1);
    this.forModel(model);
  }

  /** The monitoring series of a model version (its label series exist at 0 from the first call). */
  forModel(model: ModelIdentity & { sha256: string }): ModelSeries {
    let series = this.#models.get(model.sha256);
    if (series === undefined) {
      series = new ModelSeries(this, model);
      this.#models.set(model.sha256, series);
    }
    return series;
  }

  /** A prediction request answered with `texts` texts, for the API key named `key`. */
  countKeyUsage(key: string, texts: number): void {
    let children = this.#keys.get(key);
    if (children === undefined) {
      children = [this.keyRequests.labels(key), this.keyTexts.labels(key)];
      this.#keys.set(key, children);
    }
    children[0].inc();
    children[1].inc(texts);
  }

  countRejection(reason: Reason, texts: number): void {
    this.#rejectionsBy.get(reason)!.inc(texts);
  }

  /** Texts looked up in the prediction cache, per call. */
  countLookups(result: 'hit' | 'miss', source: 'memory' | 'redis', texts: number): void {
    if (texts > 0) this.#lookupsBy.get(`${result}/${source}`)!.inc(texts);
  }

  /** What a batch that ran adds: its size, tokens, runs and worker times. */
  countBatch(texts: number, scored: ScoredBatch): void {
    this.batchSize.observe(texts);
    this.batchPaddedTokens.observe(scored.paddedTokens);
    this.#realTokens.inc(scored.realTokens);
    this.#paddedTokens.inc(scored.paddedTokens);
    this.modelRuns.inc(scored.runs);
    this.tokenization.observe(scored.tokenizeMs / 1000);
    this.inference.observe(scored.ms / 1000);
  }

  /** Predictions returned by a model (a batch's, or a call's cache hits), tallied by the caller. */
  countPredictions(model: ModelIdentity & { sha256: string }, tally: PredictionTally): void {
    this.forModel(model).add(tally);
  }

  /** The batcher's events: queue waits (one observation per text: the histogram is per text) and refusals. */
  batcherObserver(): BatcherObserver {
    return {
      onBatchStart: (info) => {
        for (const waited of info.queueWaitsMs) this.queueWait.observe(waited / 1000);
      },
      onReject: (reason, texts) => this.countRejection(reason, texts),
    };
  }
}
