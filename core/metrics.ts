// The service's own Prometheus metrics, on a registry of its own (one per app, so tests can build several).
// HTTP request metrics and the process/Node.js defaults are added by fastify-metrics in server/app.ts, on
// the same registry. Names are what the Grafana dashboard and the alert rules in deploy/ query.
import client from 'prom-client';
import type { BatcherObserver } from '../batching/batcher.js';
import type { RejectionReason } from '../batching/errors.js';

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
  readonly rejections: client.Counter<'reason'>;
  readonly predictions: client.Counter<'label'>;
  readonly workerRestarts: client.Counter;
  readonly cacheLookups: client.Counter<'result' | 'source'>;
  /** Redis commands that failed or timed out; each one a rate-limit check allowed or a cache miss. */
  readonly redisFailures: client.Counter<'use'>;
  readonly modelReloads: client.Counter<'result'>;
  readonly modelInfo: client.Gauge<'name' | 'sha256' | 'device' | 'provider'>;
  readonly requestsInFlight: client.Gauge;

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
      name: 'sentiment_batch_size', help: 'Texts per batch', registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    });
    this.batchPaddedTokens = new client.Histogram({
      name: 'sentiment_batch_padded_tokens', help: 'Padded tokens per batch (texts × longest padded length)', registers,
      buckets: client.exponentialBuckets(8, 2, 14),
    });
    this.queueWait = new client.Histogram({
      name: 'sentiment_queue_wait_seconds', help: 'Time a text waited in the queue before its batch started', registers,
      buckets: SECONDS_BUCKETS,
    });
    this.tokenization = new client.Histogram({
      name: 'sentiment_tokenization_seconds', help: 'Tokenization time per tokenizer task (one or more texts), in a worker', registers,
      buckets: SECONDS_BUCKETS,
    });
    this.inference = new client.Histogram({
      name: 'sentiment_inference_seconds', help: 'Inference time per batch, in a worker (tensor building, ONNX Runtime, softmax)', registers,
      buckets: SECONDS_BUCKETS,
    });
    this.tokens = new client.Counter({
      name: 'sentiment_tokens_total', help: 'Tokens run by the model: kind="real" the texts\' own, kind="padded" including padding', registers,
      labelNames: ['kind'],
    });
    this.rejections = new client.Counter({
      name: 'sentiment_rejections_total', help: 'Texts refused or dropped before inference, by reason', registers,
      labelNames: ['reason'],
    });
    this.predictions = new client.Counter({
      name: 'sentiment_predictions_total', help: 'Predictions returned, by label', registers,
      labelNames: ['label'],
    });
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
    // Every reason appears from the start, at 0, so rate() and alert expressions have a series to read.
    for (const reason of ['queue_full', 'deadline', 'aborted', 'closed', 'worker_crashed'] as const) this.rejections.inc({ reason }, 0);
    for (const result of ['swapped', 'rejected'] as const) this.modelReloads.inc({ result }, 0);
    for (const use of ['rate_limit', 'cache'] as const) this.redisFailures.inc({ use }, 0);
    this.tokens.inc({ kind: 'real' }, 0);
    this.tokens.inc({ kind: 'padded' }, 0);
  }

  setModel(model: { name: string; sha256: string; device: string; executionProviders: readonly string[] }): void {
    this.modelInfo.reset();
    this.modelInfo.set({ name: model.name, sha256: model.sha256, device: model.device, provider: model.executionProviders[0] ?? model.device }, 1);
  }

  countRejection(reason: RejectionReason | 'worker_crashed', texts: number): void {
    this.rejections.inc({ reason }, texts);
  }

  /** Feeds the batch metrics from the batcher's events. */
  batcherObserver(): BatcherObserver {
    return {
      onBatchStart: (info) => {
        this.batchSize.observe(info.size);
        this.batchPaddedTokens.observe(info.paddedTokens);
        this.tokens.inc({ kind: 'real' }, info.realTokens);
        this.tokens.inc({ kind: 'padded' }, info.paddedTokens);
        for (const waited of info.queueWaitsMs) this.queueWait.observe(waited / 1000);
      },
      onReject: (reason, texts) => this.countRejection(reason, texts),
    };
  }
}
