// What a valid answer is: the service's prediction object (core/rest-prediction.ts), internally consistent.
// Checked on every response of every load, so a benchmark cannot count wrong or empty answers as served.
import type { CallKind } from './tweets.js';

/** Why `value` is not a valid prediction, or undefined when it is. `labels`: the model's, when known. */
export function predictionProblem(value: unknown, labels?: readonly string[]): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const p = value as Record<string, unknown>;
  if (typeof p.label !== 'string') return 'label is not a string';
  if (typeof p.score !== 'number' || !(p.score >= 0 && p.score <= 1)) return 'score is not a probability';
  if (typeof p.truncated !== 'boolean') return 'truncated is not a boolean';
  if (typeof p.scores !== 'object' || p.scores === null || Array.isArray(p.scores)) return 'scores is not an object';
  const scores = p.scores as Record<string, unknown>;
  const names = Object.keys(scores);
  if (labels !== undefined && (names.length !== labels.length || labels.some((label) => !(label in scores)))) {
    return `scores has labels [${names.join(', ')}], the model has [${labels.join(', ')}]`;
  }
  let sum = 0;
  let best = -1;
  for (const name of names) {
    const s = scores[name];
    if (typeof s !== 'number' || !(s >= 0 && s <= 1)) return `scores.${name} is not a probability`;
    sum += s;
    best = Math.max(best, s);
  }
  if (Math.abs(sum - 1) > 1e-3) return `scores sum to ${sum}, not 1`;
  if (!(p.label in scores)) return `label ${p.label} is not among the scores`;
  if (Math.abs((scores[p.label] as number) - p.score) > 1e-6) return 'score is not scores[label]';
  if ((scores[p.label] as number) < best - 1e-6) return 'label is not the most likely one';
  return undefined;
}

/** Checks a response body of POST /api/predict (texts = undefined) or /api/predict/batch (texts = count sent). */
export function responseProblem(body: string, texts: number | undefined, labels?: readonly string[]): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `body is not JSON: ${body.slice(0, 80)}`;
  }
  if (texts === undefined) return predictionProblem(parsed, labels);
  const predictions = (parsed as { predictions?: unknown } | null)?.predictions;
  if (!Array.isArray(predictions)) return 'no predictions array';
  if (predictions.length !== texts) return `${predictions.length} predictions for ${texts} texts`;
  for (const [i, prediction] of predictions.entries()) {
    const problem = predictionProblem(prediction, labels);
    if (problem !== undefined) return `predictions[${i}]: ${problem}`;
  }
  return undefined;
}

/** Why a list of {label, score} is not every label of the model with its probability, highest first. */
function labelledListProblem(value: unknown, labels: readonly string[] | undefined): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return 'not a non-empty list';
  const scores: Record<string, number> = {};
  for (const [i, item] of value.entries()) {
    const p = item as { label?: unknown; score?: unknown } | null;
    if (typeof p?.label !== 'string' || typeof p.score !== 'number') return `[${i}] is not {label, score}`;
    if (i > 0 && (value[i - 1] as { score: number }).score < p.score) return 'not highest first';
    scores[p.label] = p.score;
  }
  const top = value[0] as { label: string; score: number };
  return predictionProblem({ label: top.label, score: top.score, scores, truncated: false }, labels);
}

/** Checks a 2xx body of TEI's POST /predict or the HF task route: a list (one text) or a list of lists. */
export function listResponseProblem(body: string, texts: number, batch: boolean, labels?: readonly string[], alwaysNested = false): string | undefined {
  let parsed: unknown;
  try { parsed = JSON.parse(body); } catch { return `body is not JSON: ${body.slice(0, 80)}`; }
  const lists = batch || alwaysNested ? parsed : [parsed];
  if (!Array.isArray(lists) || lists.length !== texts) return `${Array.isArray(lists) ? lists.length : 'no'} lists for ${texts} texts`;
  for (const [i, list] of lists.entries()) {
    const problem = labelledListProblem(list, labels);
    if (problem !== undefined) return `[${i}]: ${problem}`;
  }
  return undefined;
}

/** Checks a 2xx body of V2 infer: label BYTES [n], probabilities and logits FP32 [n, labels], consistent. */
export function v2ResponseProblem(body: string, texts: number, labels?: readonly string[]): string | undefined {
  let parsed: { outputs?: { name: string; shape: number[]; datatype: string; data: unknown[] }[]; model_name?: unknown };
  try { parsed = JSON.parse(body) as typeof parsed; } catch { return `body is not JSON: ${body.slice(0, 80)}`; }
  if (typeof parsed?.model_name !== 'string' || !Array.isArray(parsed.outputs)) return 'not an inference_response';
  const output = (name: string) => parsed.outputs!.find((o) => o.name === name);
  const label = output('label');
  const probabilities = output('probabilities');
  if (!label || !probabilities) return 'label or probabilities missing';
  const width = probabilities.shape[1] ?? 0;
  if (label.datatype !== 'BYTES' || label.shape.join() !== String(texts) || label.data.length !== texts) return `label is not BYTES [${texts}]`;
  if (probabilities.datatype !== 'FP32' || probabilities.shape[0] !== texts || probabilities.data.length !== texts * width) return `probabilities is not FP32 [${texts}, labels]`;
  for (let i = 0; i < texts; i++) {
    const row = probabilities.data.slice(i * width, (i + 1) * width) as number[];
    const names = labels ?? row.map((_, k) => String(k));
    if (names.length !== width) return `probabilities has ${width} columns, the model ${names.length} labels`;
    const scores = Object.fromEntries(names.map((name, k) => [name, row[k]!]));
    const top = label.data[i] as string;
    const problem = predictionProblem({ label: labels ? top : names[row.indexOf(Math.max(...row))], score: labels ? scores[top] : Math.max(...row), scores, truncated: false }, labels);
    if (problem !== undefined) return `row ${i}: ${problem}`;
  }
  return undefined;
}

export interface CallContext extends Record<string, unknown> {
  texts?: number;
  batch?: boolean;
  kind?: CallKind;
}

/** Why a 2xx body is not a valid answer to the call, whatever its protocol. */
export function callProblem(body: string, context: CallContext, labels: readonly string[] | undefined): string | undefined {
  const texts = context.texts ?? 1;
  switch (context.kind) {
    case 'tei': return listResponseProblem(body, texts, context.batch === true, labels);
    case 'hf': return listResponseProblem(body, texts, context.batch === true, labels, true);
    case 'v2': return v2ResponseProblem(body, texts, labels);
    case 'api':
    case undefined:
    default: return responseProblem(body, context.batch ? texts : undefined, labels);
  }
}
