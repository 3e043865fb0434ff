// One HTTP call to a protocol route whose answer is checked against the protocol's published specification
// (test/helpers/spec-validator.ts) on the spot: every response a protocol test reads has been validated.
import type { Test } from 'tap';
import type { SpecValidator } from './spec-validator.js';

export interface CheckedResponse<T = any> {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined for an empty body. */
  body: T;
}

export interface SpecRoute {
  validator: SpecValidator;
  /** The operation's path in the specification (TEI's /predict for our POST /, V2's templated paths). */
  specPath: string;
  /** The specification's error object, for statuses the operation does not list. */
  errorSchema: string;
}

/** Sends `body` as JSON (a string is sent as is) and validates the answer against `route`. */
export async function callChecked<T = any>(t: Test, url: string, method: string, route: SpecRoute, body?: unknown, headers: Record<string, string> = {}): Promise<CheckedResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    t.fail(`${method} ${url} → ${response.status}: not JSON: ${text.slice(0, 200)}`);
  }
  const problems = route.validator.response(method, route.specPath, response.status, parsed, route.errorSchema);
  t.same(problems, [], `${method} ${new URL(url).pathname} → ${response.status} conforms to the specification (${route.specPath})`);
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Labels of a list of {label, score}, and whether the scores are in descending order. */
export function sortedDescending(predictions: { score: number }[]): boolean {
  return predictions.every((p, i) => i === 0 || predictions[i - 1]!.score >= p.score);
}

export function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
