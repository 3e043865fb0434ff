// What a model must pass before it serves beside or instead of the one serving (a hot reload, a shadow
// candidate): the same labels and the same head, so that every route keeps its meaning and answers stay
// comparable, and a test prediction whose scores are what its head promises.
import { reloadInProgress } from './errors.js';
import type { ModelDescription, ServedModel } from './model.js';

const PROBE_TEXT = 'model reload check: what a great day';

/** Why `next` may not stand in for `served`, or undefined when it may. */
export async function checkModel(next: ServedModel, served: ModelDescription): Promise<string | undefined> {
  const labels = [...next.description.labels].sort().join(', ');
  const expected = [...served.labels].sort().join(', ');
  if (labels !== expected) return `its labels (${labels}) differ from the served model's (${expected})`;
  if (next.description.problemType !== served.problemType) {
    return `its head is ${next.description.problemType} (config.json problem_type), the served model's ${served.problemType}`;
  }
  try {
    const scored = await next.backend.score([PROBE_TEXT], new Uint8Array(1), { maxRows: 1, maxTokens: next.description.maxTokens, overheadTokens: 0 });
    const scores = [...scored.scores];
    if (scores.length !== next.description.labels.length || scores.some((p) => !Number.isFinite(p))) {
      return `its test prediction is not a finite score for each label: [${scores.join(', ')}]`;
    }
    const sum = scores.reduce((a, b) => a + b, 0);
    const probabilities = scores.every((p) => p >= 0 && p <= 1);
    if (next.description.problemType === 'single_label_classification' && (!probabilities || Math.abs(sum - 1) > 1e-3)) {
      return `its test prediction is not a probability for each label: [${scores.join(', ')}]`;
    }
    if (next.description.problemType === 'multi_label_classification' && !probabilities) {
      return `its test prediction is not a probability for each label: [${scores.join(', ')}]`;
    }
  } catch (error) {
    return `its test prediction failed: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * One model load at a time, whether a reload or a shadow candidate: each starts a pool of workers that warm
 * up on the cores the live model serves from, so a second one waits for no one and is refused (409).
 */
export class ModelLoadGate {
  #busy = false;

  async run<T>(load: () => Promise<T>): Promise<T> {
    if (this.#busy) throw reloadInProgress();
    this.#busy = true;
    try {
      return await load();
    } finally {
      this.#busy = false;
    }
  }
}
