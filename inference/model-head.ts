// What a model's outputs mean, as transformers decides it from config.json: `problem_type` names the head
// (single-label classification, multi-label classification or regression), and the activation that turns
// its logits into the scores every route reports follows from it. The rule is the one of transformers'
// text-classification pipeline (its default `function_to_apply`), so that a model served here answers what
// the pipeline answers: regression, or a head with one output, gets the raw values; multi-label gets a
// sigmoid per label (labels are independent: the scores do not sum to 1); any other gets a softmax.

export const PROBLEM_TYPES = ['single_label_classification', 'multi_label_classification', 'regression'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

/** What turns a head's logits into its scores (transformers' ClassificationFunction names). */
export type Activation = 'softmax' | 'sigmoid' | 'none';

export function activationOf(problemType: ProblemType): Activation {
  return problemType === 'single_label_classification' ? 'softmax' : problemType === 'multi_label_classification' ? 'sigmoid' : 'none';
}

/**
 * The head of a model from its config.json: `problem_type` when it is set (an unknown value is an error of
 * the export, reported with `where`), else what transformers assumes: one output is a regression, more
 * are single-label classification.
 */
export function problemTypeFrom(problemType: unknown, outputs: number, where: string): ProblemType {
  if (problemType === undefined || problemType === null) return outputs === 1 ? 'regression' : 'single_label_classification';
  if (typeof problemType === 'string' && (PROBLEM_TYPES as readonly string[]).includes(problemType)) {
    if (problemType !== 'regression' && outputs < 2) throw new RangeError(`${where}: problem_type ${problemType} needs at least two labels in id2label`);
    return problemType as ProblemType;
  }
  throw new RangeError(`${where}: problem_type must be one of ${PROBLEM_TYPES.join(', ')}, got ${JSON.stringify(problemType)}`);
}

/** The activation applied to every row (`width` values each) of `logits`, into a new array. */
export function activate(activation: Activation, logits: Float32Array, width: number): Float32Array {
  if (activation === 'none') return logits.slice();
  if (activation === 'sigmoid') return logits.map((logit) => 1 / (1 + Math.exp(-logit)));
  return softmaxRows(logits, width);
}

export function softmaxRows(logits: Float32Array, width: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let base = 0; base < logits.length; base += width) {
    let max = -Infinity;
    for (let k = 0; k < width; k++) max = Math.max(max, logits[base + k]!);
    let sum = 0;
    for (let k = 0; k < width; k++) {
      const e = Math.exp(logits[base + k]! - max);
      out[base + k] = e;
      sum += e;
    }
    for (let k = 0; k < width; k++) out[base + k]! /= sum;
  }
  return out;
}
