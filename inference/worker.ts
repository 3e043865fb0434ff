// The Piscina worker: it loads the model's tokenizer and one ONNX Runtime session, warms the session up
// within a time budget (warmup.ts), then answers tasks: a batch of texts to tokenize and score
// (score-batch.ts), or the tokenizer alone for TEI's /tokenize and /decode. It never throws across the
// thread boundary: failures come back as { ok: false, code, message } so the pool can tell them from a
// worker that died.
import { writeFileSync } from 'node:fs';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { readTokenizerFiles } from './model-files.js';
import type { TaskReplies, WorkerConfig, WorkerReply, WorkerTask } from './protocol.js';
import { scoreBatch } from './score-batch.js';
import { classify, createClassifierSession, type ClassifierSession } from './session.js';
import { TextTokenizer } from './tokenizer.js';
import { warmUp, type WarmupReport } from './warmup.js';

interface LoadedModel {
  tokenizer: TextTokenizer;
  classifier: ClassifierSession;
  warmup: WarmupReport;
}

const config = workerData as WorkerConfig;

/** The OS name of every worker thread (at most 15 characters): `top -H`, `ps -T` and the benchmarks' CPU attribution tell them from Node's own threads by it. */
export const WORKER_THREAD_NAME = 'sentiment-work';
try {
  writeFileSync('/proc/thread-self/comm', WORKER_THREAD_NAME);
} catch {
  // Not Linux, or /proc not mounted: the thread keeps its inherited name.
}

async function load(): Promise<LoadedModel> {
  const { tokenizerJson, tokenizerConfig } = readTokenizerFiles(config.modelDir);
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, config.maxTokens);
  tokenizer.encode('warm up the tokenizer');
  const classifier = await createClassifierSession(config.onnxPath, config.device, config.intraOpThreads, config.numLabels);
  // Shapes up to the largest the batcher can send, so the memory arena grows now rather than under the first
  // heavy load, as far as the time budget allows; the run also measures the model's cost per token here.
  const warmup = await warmUp(async ({ rows, length }) => {
    const row = new Array<number>(length).fill(tokenizer.padId);
    await classify(classifier, Array.from({ length: rows }, () => row), length, tokenizer.padId);
  }, { maxRows: config.warmupBatchSize, maxTokens: config.maxTokens, budgetMs: config.warmupBudgetMs });
  return { tokenizer, classifier, warmup };
}

/**
 * A reply whose typed arrays are moved to the main thread, not copied. Piscina sends the wrapper's value
 * (the WorkerReply) and transfers its buffers, so the main thread receives exactly a WorkerReply<T>.
 */
function moved<T>(value: T, buffers: ArrayBufferLike[]): WorkerReply<T> {
  const wrapper = { [transferableSymbol]: buffers, [valueSymbol]: { ok: true, value } satisfies WorkerReply<T> };
  return move(wrapper) as unknown as WorkerReply<T>;
}

function failure(error: unknown): WorkerReply<never> {
  const err = error as { code?: unknown; message?: unknown };
  return { ok: false, code: typeof err.code === 'string' ? err.code : 'INFERENCE_FAILED', message: String(err.message ?? error) };
}

async function run(model: LoadedModel, task: WorkerTask): Promise<WorkerReply<TaskReplies[WorkerTask['kind']]>> {
  switch (task.kind) {
    case 'score': {
      const scored = await scoreBatch(model.tokenizer, model.classifier, config.activation, task);
      return moved(scored, [scored.logits.buffer, scored.scores.buffer, scored.status.buffer, scored.truncated.buffer, scored.tokens.buffer]);
    }
    case 'tokenize':
      return { ok: true, value: task.texts.map((text) => model.tokenizer.tokenize(text, task.addSpecialTokens)) };
    case 'decode':
      return { ok: true, value: task.ids.map((ids) => model.tokenizer.decode(ids, task.skipSpecialTokens)) };
    case 'describe': {
      const { warmup } = model;
      return { ok: true, value: { providers: model.classifier.providers, warmupMs: warmup.ms, msPerToken: warmup.msPerToken, warmupShapes: warmup.ran.length, runRows: warmup.runRows, runOverheadTokens: warmup.runOverheadTokens, specialTokens: model.tokenizer.specialTokens } };
    }
  }
}

async function handlerFor(loading: Promise<LoadedModel>): Promise<(task: WorkerTask) => Promise<WorkerReply<unknown>>> {
  let model: LoadedModel;
  try {
    model = await loading;
  } catch (error) {
    // The model or provider cannot load: every task (first of all the pool's start-up check) says why.
    const loadFailure = failure(error);
    return async () => loadFailure;
  }
  return async (task) => {
    try {
      return await run(model, task);
    } catch (error) {
      return failure(error);
    }
  };
}

// Piscina awaits a promised default export before the worker reports ready, so a replacement worker
// takes no task until its model is loaded and warm.
export default handlerFor(load());
