// Small models of the heads the shipped model does not have (multi-label classification, regression), made
// when a test runs by test/fixtures/make-models.py with Debian's Python, /usr/bin/python3 (numpy and onnx:
// python3-numpy and python3-onnx, which npm test's prerequisites install): bert-tiny's graph
// and tokenizer with another head and its config.json problem_type. Random weights: they prove the serving
// contract of each head, not what a text means.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = new URL('../fixtures/make-models.py', import.meta.url).pathname;

export interface HeadModelOptions {
  problemType: 'single_label_classification' | 'multi_label_classification' | 'regression';
  labels: string[];
  textPreprocessing?: string[];
  seed?: number;
}

/** A new model directory with that head; throws with Python's output when it cannot be made. */
export function makeHeadModel(options: HeadModelOptions): string {
  const out = join(mkdtempSync(join(tmpdir(), 'head-model-')), options.problemType);
  const args = [SCRIPT, 'head', '--out', out, '--problem-type', options.problemType, '--labels', options.labels.join(',')];
  if (options.textPreprocessing !== undefined) args.push('--text-preprocessing', options.textPreprocessing.join(','));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  const run = spawnSync('/usr/bin/python3', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`make-models.py head failed (${run.status}): ${run.stderr}${run.stdout}`);
  return out;
}
