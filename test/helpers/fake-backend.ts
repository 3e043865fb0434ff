// A backend that runs no model, for unit tests of the predictor (core/backend.ts ScoringBackend): each text's
// logits follow from its text (a text containing "good" is positive, "bad" negative, else neutral), every
// batch it is given is recorded, and a test may hold batches back and finish or fail them when it chooses.
import type { ScoringBackend } from '../../core/backend.js';
import type { RunLimits } from '../../inference/run-plan.js';
import type { ModelDescription, ServedModel } from '../../core/model.js';
import { TokenEstimate } from '../../core/token-estimate.js';
import { TEXT_SCORED, TEXT_TOO_MANY_TOKENS, TRUNCATIONS, type ScoredBatch, type TokenDetail, type WorkerDescription } from '../../inference/protocol.js';
import { softmaxRows } from '../../inference/model-head.js';

export const LABELS = ['negative', 'neutral', 'positive'] as const;

/** The default rule: a text containing "good" is positive, "bad" negative, else neutral. */
export function fakeLabel(text: string): number {
  return text.includes('good') ? 2 : text.includes('bad') ? 0 : 1;
}

/** A word is a token; two special tokens frame each text. */
export function fakeTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length + 2;
}

export interface FakeBatch {
  texts: string[];
  truncation: Uint8Array;
  runs: RunLimits;
  finish: () => void;
  fail: (error: Error) => void;
}

export class FakeBackend implements ScoringBackend {
  readonly workers: number;
  readonly description: WorkerDescription = { providers: ['fake'], warmupMs: 0, msPerToken: 0.001, warmupShapes: 0, runRows: 4, runOverheadTokens: 16, specialTokens: 2 };
  readonly batches: FakeBatch[] = [];
  /** Batches finish on their own (in a microtask) unless held. */
  hold = false;
  closed = false;
  readonly #maxTokens: number;
  readonly #labelOf: (text: string) => number;

  /** `labelOf` gives a text's label (an index into LABELS); by default "good" positive, "bad" negative, else neutral. */
  constructor({ workers = 1, maxTokens = 16, labelOf = fakeLabel }: { workers?: number; maxTokens?: number; labelOf?: (text: string) => number } = {}) {
    this.workers = workers;
    this.#maxTokens = maxTokens;
    this.#labelOf = labelOf;
  }

  score(texts: string[], truncation: Uint8Array, runs: RunLimits): Promise<ScoredBatch> {
    if (this.closed) return Promise.reject(new Error('the fake backend is closed'));
    return new Promise((resolve, reject) => {
      const batch: FakeBatch = {
        texts, truncation, runs,
        finish: () => resolve(this.#scored(texts, truncation)),
        fail: reject,
      };
      this.batches.push(batch);
      if (!this.hold) queueMicrotask(batch.finish);
    });
  }

  async tokenize(texts: string[], addSpecialTokens: boolean): Promise<TokenDetail[][]> {
    return texts.map((text) => text.split(/\s+/).filter(Boolean).map((word, id) => ({ id, text: word, special: false })).concat(addSpecialTokens ? [{ id: 0, text: '</s>', special: true }] : []));
  }

  async decode(ids: number[][]): Promise<string[]> {
    return ids.map((row) => row.join(' '));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  #scored(texts: string[], truncation: Uint8Array): ScoredBatch {
    const width = LABELS.length;
    const logits = new Float32Array(texts.length * width);
    const status = new Uint8Array(texts.length);
    const truncated = new Uint8Array(texts.length);
    const tokens = new Int32Array(texts.length);
    texts.forEach((text, i) => {
      const count = fakeTokens(text);
      const tooLong = count > this.#maxTokens;
      truncated[i] = tooLong ? 1 : 0;
      tokens[i] = tooLong && TRUNCATIONS[truncation[i]!] !== 'none' ? this.#maxTokens : count;
      if (tooLong && TRUNCATIONS[truncation[i]!] === 'none') {
        status[i] = TEXT_TOO_MANY_TOKENS;
        return;
      }
      status[i] = TEXT_SCORED;
      logits[i * width + this.#labelOf(text)] = 4;
    });
    const realTokens = tokens.reduce((sum, n, i) => sum + (status[i] === TEXT_SCORED ? n : 0), 0);
    return { logits, scores: softmaxRows(logits, width), status, truncated, tokens, realTokens, paddedTokens: realTokens, runs: 1, tokenizeMs: 0, ms: 1 };
  }
}

/** A served model over a fake backend; `preprocess` stands for a declared text_preprocessing step. */
export function fakeModel(backend: FakeBackend, { version = 'fake00000001', maxTokens = 16, preprocess = undefined as ((text: string) => string) | undefined } = {}): ServedModel {
  const description: ModelDescription = {
    name: 'fake', file: 'model.onnx', labels: LABELS, problemType: 'single_label_classification', preprocessing: preprocess ? ['fake'] : [],
    maxTokens, dtype: 'fp32', device: 'cpu',
    executionProviders: ['fake'], workers: backend.workers, intraOpThreads: 1, sizing: 'set', runRows: backend.description.runRows, runOverheadTokens: backend.description.runOverheadTokens,
    sha256: version.padEnd(64, '0'), version, loadedAt: new Date(0),
  };
  return { description, backend, estimate: new TokenEstimate(maxTokens, backend.description.specialTokens), preprocess };
}
