// Texts in, predictions out: tokenization in a worker, the shared micro-batcher, a batch run in a worker,
// and the softmax scores turned into labelled predictions. The server's routes call only this.
import { MicroBatcher, type BatcherOptions } from '../batching/batcher.js';
import type { InferencePool } from '../inference/pool.js';
import type { ServiceMetrics } from './metrics.js';

export interface Prediction {
  label: string;
  score: number;
  scores: Record<string, number>;
  truncated: boolean;
}

export interface PredictionTimings {
  /** Longest wait of the call's texts in the queue, ms. */
  queueMs: number;
  /** Longest inference time of the batches that ran the call's texts, ms. */
  inferenceMs: number;
  tokenizeMs: number;
}

export interface PredictionOutcome {
  predictions: Prediction[];
  timings: PredictionTimings;
  model: ServedModel;
}

/** A loaded model: its files' facts and the pool of workers serving it. */
export interface ServedModel {
  pool: InferencePool;
  labels: readonly string[];
  /** Short sha256 of model.onnx (12 hex digits), sent as x-model-version. */
  version: string;
  loadedAt: Date;
}

interface Payload {
  model: ServedModel;
  ids: Int32Array;
}

interface Row {
  probabilities: Float32Array;
  inferenceMs: number;
}

export type BatchingOptions = Pick<BatcherOptions<Payload, Row>, 'maxBatchSize' | 'maxBatchTokens' | 'maxWaitMs' | 'maxQueue'>;

export interface PredictOptions {
  /** Absolute time (performance.now()) after which waiting texts are dropped with DEADLINE_EXCEEDED. */
  deadline: number;
  signal?: AbortSignal;
}

export class Predictor {
  readonly #batcher: MicroBatcher<Payload, Row>;
  readonly #metrics: ServiceMetrics;
  #model: ServedModel;

  constructor(model: ServedModel, batching: BatchingOptions, metrics: ServiceMetrics) {
    this.#model = model;
    this.#metrics = metrics;
    this.#batcher = new MicroBatcher<Payload, Row>({
      ...batching,
      concurrency: model.pool.workers,
      // One batch waits at each worker's door, so a worker that finishes starts the next at once.
      prefetch: model.pool.workers,
      lengthMultiple: LENGTH_MULTIPLE,
      runner: (payloads) => this.#runBatch(payloads),
      observer: metrics.batcherObserver(),
    });
  }

  get model(): ServedModel {
    return this.#model;
  }

  get queueDepth(): number {
    return this.#batcher.depth;
  }

  get batchesInFlight(): number {
    return this.#batcher.inFlight;
  }

  get saturated(): boolean {
    return this.#batcher.saturated;
  }

  get closed(): boolean {
    return this.#batcher.closed;
  }

  retryAfterSeconds(): number {
    return this.#batcher.retryAfterSeconds();
  }

  async predict(texts: string[], options: PredictOptions): Promise<PredictionOutcome> {
    const model = this.#model;
    const encoded = await model.pool.encode(texts);
    this.#metrics.tokenization.observe(encoded.ms / 1000);
    const entries = texts.map((_, i) => {
      const ids = encoded.ids.subarray(encoded.offsets[i]!, encoded.offsets[i + 1]!);
      return { payload: { model, ids }, tokens: ids.length };
    });
    const completed = await Promise.all(this.#batcher.submitMany(entries, { deadline: options.deadline, signal: options.signal, group: model }));
    let queueMs = 0;
    let inferenceMs = 0;
    const predictions = completed.map((done, i) => {
      queueMs = Math.max(queueMs, done.queueMs);
      inferenceMs = Math.max(inferenceMs, done.value.inferenceMs);
      return this.#toPrediction(model.labels, done.value.probabilities, encoded.truncated[i] === 1);
    });
    return { predictions, timings: { queueMs, inferenceMs, tokenizeMs: encoded.ms }, model };
  }

  /** Stops taking requests, finishes every accepted one, then stops the workers. */
  async close(): Promise<void> {
    await this.#batcher.close();
    await this.#model.pool.close();
  }

  #toPrediction(labels: readonly string[], probabilities: Float32Array, truncated: boolean): Prediction {
    const scores: Record<string, number> = {};
    let best = 0;
    for (let k = 0; k < labels.length; k++) {
      scores[labels[k]!] = probabilities[k]!;
      if (probabilities[k]! > probabilities[best]!) best = k;
    }
    const label = labels[best]!;
    this.#metrics.predictions.inc({ label });
    return { label, score: probabilities[best]!, scores, truncated };
  }

  async #runBatch(payloads: Payload[]): Promise<Row[]> {
    // Every text of a batch was tokenized for the same model (the batcher groups by model).
    const model = payloads[0]!.model;
    let total = 0;
    for (const payload of payloads) total += payload.ids.length;
    const ids = new Int32Array(total);
    const offsets = new Int32Array(payloads.length + 1);
    payloads.forEach((payload, i) => {
      ids.set(payload.ids, offsets[i]);
      offsets[i + 1] = offsets[i]! + payload.ids.length;
    });
    let result;
    try {
      result = await model.pool.infer(ids, offsets);
    } catch (error) {
      if ((error as { code?: string }).code === 'WORKER_CRASHED') this.#metrics.countRejection('worker_crashed', payloads.length);
      throw error;
    }
    this.#metrics.inference.observe(result.ms / 1000);
    const width = model.labels.length;
    return payloads.map((_, i) => ({ probabilities: result.probabilities.subarray(i * width, (i + 1) * width), inferenceMs: result.ms }));
  }
}

/** Sequence lengths are padded to multiples of 8: a bounded set of shapes for ONNX Runtime. */
export const LENGTH_MULTIPLE = 8;
