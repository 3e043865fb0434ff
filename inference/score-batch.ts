// One batch in an inference worker: tokenize every text, cut the batch into runs by length (run-plan.ts),
// run each, and lay the answers out by the texts' positions. Tokenizing here rather than in a thread of its
// own saves each text two thread hand-offs; the worker's batch time then includes it, which is what the
// batcher's drain rate should measure anyway.
import { activate, type Activation } from './model-head.js';
import { planRuns } from './run-plan.js';
import { TEXT_SCORED, TEXT_TOO_MANY_TOKENS, TRUNCATIONS, type ScoreTask, type ScoredBatch } from './protocol.js';
import { classify, type ClassifierSession } from './session.js';
import type { TextTokenizer } from './tokenizer.js';

export async function scoreBatch(tokenizer: TextTokenizer, classifier: ClassifierSession, activation: Activation, task: ScoreTask): Promise<ScoredBatch> {
  const started = performance.now();
  const count = task.texts.length;
  const width = classifier.numLabels;
  const status = new Uint8Array(count);
  const truncated = new Uint8Array(count);
  const ids = new Array<number[]>(count);
  const lengths = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const mode = TRUNCATIONS[task.truncation[i]!] ?? 'right';
    const encoded = tokenizer.encode(task.texts[i]!, mode);
    ids[i] = encoded.ids;
    lengths[i] = encoded.ids.length;
    truncated[i] = encoded.truncated ? 1 : 0;
    if (encoded.truncated && mode === 'none') status[i] = TEXT_TOO_MANY_TOKENS;
  }
  const tokenizeMs = performance.now() - started;

  const logits = new Float32Array(count * width);
  const plan = planRuns(lengths, task.runs, tokenizer.maxTokens, (i) => status[i] === TEXT_SCORED);
  let realTokens = 0;
  let paddedTokens = 0;
  for (let r = 0; r + 1 < plan.starts.length; r++) {
    const members = plan.order.subarray(plan.starts[r], plan.starts[r + 1]);
    const rows = Array.from(members, (i) => ids[i]!);
    const length = plan.lengths[r]!;
    const out = await classify(classifier, rows, length, tokenizer.padId);
    members.forEach((i, row) => {
      logits.set(out.subarray(row * width, (row + 1) * width), i * width);
      realTokens += lengths[i]!;
    });
    paddedTokens += members.length * length;
  }
  // Once over the whole batch, not per run.
  const scores = activate(activation, logits, width);
  return {
    logits, scores, status, truncated, tokens: lengths, realTokens, paddedTokens,
    runs: plan.starts.length - 1, tokenizeMs, ms: performance.now() - started,
  };
}

