// Model update without downtime. The model at MODEL_PATH is loaded beside the one serving (its own workers,
// warmed up), checked — it loads, it answers a test prediction with a finite probability for each label,
// it has the same label set — and only then swapped in, between batches. The old model finishes the texts
// it had accepted, then its workers stop. A model that fails a check is refused and the old one keeps
// serving; /api/ready stays 200 throughout. Triggered by POST /api/admin/reload or SIGHUP.
import type { Logger } from 'pino';
import { modelRejected, reloadInProgress } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelDescription, ServedModel } from './model.js';
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

const PROBE_TEXT = 'model reload check: what a great day';

export class ModelReloader {
  readonly #predictor: Predictor;
  readonly #load: () => Promise<ServedModel>;
  readonly #metrics: ServiceMetrics;
  readonly #logger: Logger;
  #running = false;

  constructor(predictor: Predictor, load: () => Promise<ServedModel>, metrics: ServiceMetrics, logger: Logger) {
    this.#predictor = predictor;
    this.#load = load;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  async reload(): Promise<ReloadOutcome> {
    if (this.#running) throw reloadInProgress();
    this.#running = true;
    const started = performance.now();
    const previous = this.#predictor.model;
    try {
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
      const problem = await checkModel(next, previous.labels);
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
    } finally {
      this.#running = false;
    }
  }

  #reject(reason: string): Error {
    this.#metrics.modelReloads.inc({ result: 'rejected' });
    this.#logger.error({ reason }, 'model reload refused; the old model keeps serving');
    return modelRejected(reason);
  }
}

async function checkModel(next: ServedModel, previousLabels: readonly string[]): Promise<string | undefined> {
  const labels = [...next.description.labels].sort().join(', ');
  const expected = [...previousLabels].sort().join(', ');
  if (labels !== expected) return `its labels (${labels}) differ from the served model's (${expected})`;
  try {
    const scored = await next.backend.score([PROBE_TEXT], new Uint8Array(1), 1, next.description.maxTokens);
    const probabilities = [...scored.probabilities];
    const sum = probabilities.reduce((a, b) => a + b, 0);
    if (probabilities.length !== next.description.labels.length || probabilities.some((p) => !Number.isFinite(p)) || Math.abs(sum - 1) > 1e-3) {
      return `its test prediction is not a probability for each label: [${probabilities.join(', ')}]`;
    }
  } catch (error) {
    return `its test prediction failed: ${(error as Error).message}`;
  }
  return undefined;
}

function summary(model: ModelDescription): ModelSummary {
  return { name: model.name, sha256: model.sha256, version: model.version, loadedAt: model.loadedAt.toISOString() };
}
