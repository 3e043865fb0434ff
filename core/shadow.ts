// Shadow scoring: a candidate model, loaded beside the live one with workers of its own, is shown a sample
// of the texts the live model computes, and its labels are compared with the live ones (shadow-stats.ts),
// so that an operator sees how often it agrees on live traffic before promoting it (promotion is the
// existing reload). It never touches the request path:
// - it is offered a live batch only after that batch's answers went to their callers (predictor.ts), and
//   only while a candidate is loaded (with none, nothing of it runs);
// - it is dropped first under load: a sampled text is skipped while the live queue holds any text, or while
//   the candidate's own small queue is full; the candidate never holds a live text back;
// - its texts go straight to its own workers, never through the live queue or its metrics.
import type { Logger } from 'pino';
import { Fifo } from '../batching/fifo.js';
import { candidateRejected } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import { runLimits, type ModelDescription, type ServedModel } from './model.js';
import { checkModel, type ModelLoadGate } from './model-checks.js';
import { summary, type ModelSummary } from './model-reloader.js';
import type { LiveBatch, LiveBatchTap } from './batch-runner.js';
import type { Predictor } from './predictor.js';
import { argmax, type TextResult } from './results.js';
import type { ShadowSkipReason } from './shadow-metrics.js';
import { ShadowStats, type ComparedText, type ShadowComparison } from './shadow-stats.js';

export interface ShadowReport extends Partial<ShadowComparison> {
  /** A candidate is loaded and being shown live texts. */
  active: boolean;
  candidate?: ModelSummary & { path: string };
  /** The live model the comparison is against. */
  live?: ModelSummary;
  sampleRate?: number;
  skipped?: Record<ShadowSkipReason, number>;
}

export interface ShadowOptions {
  predictor: Predictor;
  /** Loads the model at a path with the candidate's workers (not yet checked against the live one). */
  load: (path: string) => Promise<ServedModel>;
  gate: ModelLoadGate;
  metrics: ServiceMetrics;
  logger: Logger;
  /** Texts per candidate batch; the candidate's queue holds two of them. */
  batchSize: number;
  /** Most padded tokens of one ONNX Runtime run (the live model's MAX_BATCH_TOKENS). */
  maxRunTokens: number;
}

/** A sampled live text waiting for the candidate. */
interface Sampled {
  text: string;
  live: TextResult;
  liveMs: number;
  stats: ShadowStats;
}

interface Candidate {
  model: ServedModel;
  path: string;
  sampleRate: number;
  queue: Fifo<Sampled>;
  /** Candidate batches running. */
  running: number;
  skipped: Record<ShadowSkipReason, number>;
}

export class ShadowScorer implements LiveBatchTap {
  readonly #options: ShadowOptions;
  #candidate: Candidate | undefined;
  #stats: ShadowStats | undefined;
  /** Texts to pass over before the next sample (a geometric gap: a random draw per sample, not per text). */
  #gap = 0;

  constructor(options: ShadowOptions) {
    this.#options = options;
    options.predictor.tap = this;
  }

  get active(): boolean {
    return this.#candidate !== undefined;
  }

  /**
   * Loads the model at `path`, checks it against the live one (labels, head, a test prediction) and makes it
   * the candidate, in place of any other; refused with MODEL_REJECTED, or RELOAD_IN_PROGRESS while another
   * model loads.
   */
  start(path: string, sampleRate: number): Promise<ShadowReport> {
    const { gate, load, predictor, metrics, logger } = this.#options;
    return gate.run(async () => {
      let model: ServedModel;
      try {
        model = await load(path);
      } catch (error) {
        throw candidateRejected(`it does not load: ${(error as Error).message}`);
      }
      const problem = await checkModel(model, predictor.model);
      if (problem !== undefined) {
        await model.backend.close();
        throw candidateRejected(problem);
      }
      const previous = this.#candidate;
      this.#candidate = { model, path, sampleRate, queue: new Fifo(), running: 0, skipped: { live_busy: 0, shadow_full: 0 } };
      this.#stats = new ShadowStats(predictor.model, metrics.shadow);
      this.#gap = this.#nextGap();
      metrics.shadow.candidateInfo.reset();
      metrics.shadow.candidateInfo.set({ name: model.description.name, sha256: model.description.sha256 }, 1);
      logger.info({ candidate: model.description.version, live: predictor.model.version, sampleRate }, 'shadow candidate loaded');
      if (previous !== undefined) await previous.model.backend.close();
      return this.report();
    });
  }

  /** Drops the candidate (its running batches finish, then its workers stop); answers its last report. */
  async stop(): Promise<ShadowReport> {
    const last = this.report();
    const candidate = this.#candidate;
    if (candidate === undefined) return last;
    this.#candidate = undefined;
    this.#options.metrics.shadow.candidateInfo.reset();
    await candidate.model.backend.close();
    this.#options.logger.info({ candidate: candidate.model.description.version, compared: last.compared }, 'shadow candidate dropped');
    return { ...last, active: false };
  }

  report(): ShadowReport {
    const candidate = this.#candidate;
    if (candidate === undefined || this.#stats === undefined) return { active: false };
    return {
      active: true,
      candidate: { ...summary(candidate.model.description), path: candidate.path },
      live: summary(this.#options.predictor.model),
      sampleRate: candidate.sampleRate,
      ...this.#stats.report(),
      skipped: { ...candidate.skipped },
    };
  }

  offer(batch: LiveBatch, liveQueueDepth: number): void {
    const candidate = this.#candidate;
    if (candidate === undefined) return;
    // A swapped-in live model starts a new comparison.
    if (this.#stats?.liveSha256 !== batch.model.sha256) this.#stats = new ShadowStats(batch.model, this.#options.metrics.shadow);
    const stats = this.#stats;
    const room = 2 * this.#options.batchSize;
    const liveMs = batch.ms / batch.texts.length;
    let i = this.#gap;
    for (; i < batch.texts.length; i += 1 + this.#nextGap()) {
      const outcome = batch.outcomes[i];
      if (!batch.texts[i]!.counted || typeof outcome !== 'object') continue;
      if (liveQueueDepth > 0) this.#skip(candidate, 'live_busy');
      else if (candidate.queue.length >= room) this.#skip(candidate, 'shadow_full');
      else candidate.queue.push({ text: batch.texts[i]!.text, live: outcome, liveMs, stats });
    }
    this.#gap = i - batch.texts.length;
    this.#pump(candidate);
  }

  /** Stops the candidate with the service. */
  async close(): Promise<void> {
    await this.stop();
  }

  #skip(candidate: Candidate, reason: ShadowSkipReason): void {
    candidate.skipped[reason]++;
    this.#options.metrics.shadow.skipped.labels(reason).inc();
  }

  /** How many texts to pass over before the next sample, so that each text is sampled with the candidate's rate. */
  #nextGap(): number {
    const rate = this.#candidate?.sampleRate ?? 1;
    return rate >= 1 ? 0 : Math.floor(Math.log(1 - Math.random()) / Math.log(1 - rate));
  }

  /** Sends what the candidate's queue holds to its workers, a batch per idle worker. */
  #pump(candidate: Candidate): void {
    const { model } = candidate;
    while (candidate.queue.length > 0 && candidate.running < model.backend.workers && this.#candidate === candidate) {
      const batch: Sampled[] = [];
      while (batch.length < this.#options.batchSize && candidate.queue.length > 0) batch.push(candidate.queue.shift()!);
      candidate.running++;
      void this.#run(candidate, batch).finally(() => {
        candidate.running--;
        this.#pump(candidate);
      });
    }
  }

  async #run(candidate: Candidate, batch: Sampled[]): Promise<void> {
    const { model } = candidate;
    const preprocess = model.preprocess;
    // The text as the live model read it, normalized as the candidate declares too.
    const texts = batch.map(({ text }) => (preprocess === undefined ? text : preprocess(text)));
    try {
      const scored = await model.backend.score(texts, new Uint8Array(texts.length), runLimits(model.description, this.#options.maxRunTokens));
      const width = model.description.labels.length;
      const candidateMs = scored.ms / batch.length;
      const compared: ComparedText[] = [];
      batch.forEach((item, i) => {
        const scores = scored.scores.subarray(i * width, (i + 1) * width);
        compared.push(comparison(item, scores, model.description, candidateMs));
      });
      // Texts sampled for a live model swapped out since are not compared with the new one.
      const stats = this.#stats;
      const current = compared.filter((_, i) => batch[i]!.stats === stats);
      if (stats !== undefined && current.length > 0) stats.record(current);
    } catch (error) {
      this.#options.logger.warn({ err: (error as Error).message, texts: batch.length }, 'a shadow candidate batch failed; its texts are not compared');
    }
  }
}

/** One text's labels as indices into the live model's labels (the candidate may order them otherwise), or its values. */
function comparison(item: Sampled, scores: Float32Array, candidate: ModelDescription, candidateMs: number): ComparedText {
  const live = item.stats;
  if (candidate.problemType === 'regression') return { live: item.live.scores[0]!, candidate: scores[0]!, liveMs: item.liveMs, candidateMs };
  const label = candidate.labels[argmax(scores)]!;
  return { live: item.live.labelIndex, candidate: live.labelIndex(label), liveMs: item.liveMs, candidateMs };
}
