// What a valid answer is: the API's prediction object (server/schemas.ts), internally consistent.
// Checked on every response of every load, so a benchmark cannot count wrong or empty answers as served.

export interface PredictionLike {
  label: string;
  score: number;
  scores: Record<string, number>;
  truncated: boolean;
}

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
