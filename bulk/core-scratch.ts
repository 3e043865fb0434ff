// SCRATCH until the core lands (tag core-ready): the contract of /work/briefs/core-api.md declared locally,
// with a stand-in predictEach over today's predict. Deleted on rebase; imports then point at core/.
import { InvalidTextError, TextTooLongError, TooManyTextsError } from '../server/errors.js';
import { toPrediction, type Predictor as OldPredictor } from '../server/predictor.js';

export { toPrediction };

export interface ModelDescription { name: string; labels: string[]; version: string }
export interface TextResult {
  labelIndex: number;
  probabilities: Float32Array;
  logits: Float32Array;
  truncated: boolean;
  tokens: number;
  cached: boolean;
  timings: { tokenizeMs: number; queueMs: number; inferenceMs: number };
}
export interface PredictOptions {
  deadline: number;
  signal?: { readonly aborted: boolean };
  truncation?: 'right' | 'left' | 'none';
}
export interface Limits { maxTextChars: number; maxClientBatch: number; maxQueue: number; maxBatchSize: number; maxBatchTokens: number; requestTimeoutMs: number }
export interface Predictor {
  readonly model: ModelDescription;
  readonly limits: Limits;
  deadline(startedAt?: number): number;
  predictEach(texts: string[], options: PredictOptions): { model: ModelDescription; results: Promise<TextResult>[] };
  readonly queueDepth: number;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export function checkTexts(texts: string[], limits: Pick<Limits, 'maxTextChars' | 'maxClientBatch'>, where: (i: number) => string = (i) => `texts.${i}`): void {
  if (texts.length > limits.maxClientBatch) throw new TooManyTextsError(texts.length, limits.maxClientBatch);
  texts.forEach((text, i) => {
    if (!/\S/.test(text)) throw new InvalidTextError(`${where(i)} is only whitespace`);
    if (text.includes('\0')) throw new InvalidTextError(`${where(i)} holds a NUL character`);
    if (LONE_SURROGATE.test(text)) throw new InvalidTextError(`${where(i)} holds a lone UTF-16 surrogate (invalid Unicode)`);
    let n = 0;
    for (const _ of text) n++;
    if (n > limits.maxTextChars) throw new TextTooLongError(where(i), n, limits.maxTextChars);
  });
}

/** Today's predictor seen through the contract: one predict call per text. */
export function contractPredictor(old: OldPredictor, limits: Limits): Predictor {
  const describe = (): ModelDescription => ({ name: old.model.pool.files.name, labels: [...old.model.labels], version: old.model.version });
  return {
    get model() { return describe(); },
    limits,
    deadline: (startedAt = performance.now()) => startedAt + limits.requestTimeoutMs,
    get queueDepth() { return old.queueDepth; },
    predictEach(texts, options) {
      const model = describe();
      const results = texts.map((text) => old.predict([text], options).then((outcome): TextResult => {
        const p = outcome.predictions[0]!;
        const probabilities = Float32Array.from(model.labels.map((l) => p.scores[l]!));
        return {
          labelIndex: model.labels.indexOf(p.label), probabilities, logits: probabilities, truncated: p.truncated, tokens: 0,
          cached: outcome.cacheHits > 0, timings: outcome.timings,
        };
      }));
      return { model, results };
    },
  };
}

import type { Logger } from 'pino';
import type { Config } from '../server/config.js';
import { startService } from '../server/service.js';

/** The core without HTTP (the contract's startEngine): today's service, never listening. */
export async function startEngine(config: Config, logger: Logger): Promise<{ predictor: Predictor; close(): Promise<void> }> {
  const service = await startService(config, logger);
  const predictor = contractPredictor(service.predictor, {
    maxTextChars: config.maxTextChars, maxClientBatch: config.maxClientBatch, maxQueue: config.maxQueue,
    maxBatchSize: config.maxBatchSize, maxBatchTokens: config.maxBatchTokens, requestTimeoutMs: config.requestTimeoutMs,
  });
  return { predictor, close: () => service.close() };
}
