// Model update without downtime. The model at MODEL_PATH is loaded beside the one serving (its own workers,
// warmed up), checked — it loads, it has the same label set and head, it answers a test prediction as its
// head should (model-checks.ts) — and only then swapped in, between batches. The old model finishes the texts
// it had accepted, then its workers stop. A model that fails a check is refused and the old one keeps
// serving; /api/ready stays 200 throughout. Triggered by POST /api/admin/reload or SIGHUP.
import type { Logger } from 'pino';
import { modelRejected } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelDescription, ServedModel } from './model.js';
import { ModelLoadGate, checkModel } from './model-checks.js';
import type { Predictor } from './predictor.js';

export interface ModelSummary {
  name: string;
  sha256: string;
  version: string;
  loadedAt: string;
}

export interface ReloadOutcome {
  status: 'swapped' | 'unchanged';
  previous: ModelSummary;
  current: ModelSummary;
  loadMs: number;
}

export class ModelReloader {
  readonly #predictor: Predictor;
  readonly #load: () => Promise<ServedModel>;
  readonly #metrics: ServiceMetrics;
  readonly #logger: Logger;
  readonly #gate: ModelLoadGate;

  constructor(predictor: Predictor, load: () => Promise<ServedModel>, metrics: ServiceMetrics, logger: Logger, gate = new ModelLoadGate()) {
    this.#predictor = predictor;
    this.#load = load;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#gate = gate;
  }

  reload(): Promise<ReloadOutcome> {
    return this.#gate.run(() => this.#reload());
  }

  async #reload(): Promise<ReloadOutcome> {
    const started = performance.now();
    const previous = this.#predictor.model;
    let next: ServedModel;
    try {
      next = await this.#load();
    } catch (error) {
      throw this.#reject(`it does not load: ${(error as Error).message}`);
    }
    if (next.description.sha256 === previous.sha256) {
      await next.backend.close();
      const outcome: ReloadOutcome = { status: 'unchanged', previous: summary(previous), current: summary(previous), loadMs: performance.now() - started };
      this.#logger.info({ version: previous.version }, 'model reload: the file is unchanged; nothing swapped');
      return outcome;
    }
    const problem = await checkModel(next, previous);
    if (problem !== undefined) {
      await next.backend.close();
      throw this.#reject(problem);
    }
    await this.#predictor.swap(next);
    this.#metrics.setModel(next.description);
    this.#metrics.modelReloads.inc({ result: 'swapped' });
    const outcome: ReloadOutcome = { status: 'swapped', previous: summary(previous), current: summary(next.description), loadMs: performance.now() - started };
    this.#logger.info({ from: previous.version, to: next.description.version, loadMs: Math.round(outcome.loadMs) }, 'model reloaded and swapped in');
    return outcome;
  }

  #reject(reason: string): Error {
    this.#metrics.modelReloads.inc({ result: 'rejected' });
    this.#logger.error({ reason }, 'model reload refused; the old model keeps serving');
    return modelRejected(reason);
  }
}

/** What the reload and shadow answers say of a model. */
export function summary(model: ModelDescription): ModelSummary {
  return { name: model.name, sha256: model.sha256, version: model.version, loadedAt: model.loadedAt.toISOString() };
}
