// The Piscina worker, in one of two roles (protocol.ts): a tokenizer worker loads the model's tokenizer; an
// inference worker also loads one ONNX Runtime session and warms it up within a time budget (warmup.ts). Either
// then answers tasks. It never throws across the thread boundary: failures come back as
// { ok: false, code, message } so the pool can tell them from a worker that died.
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { readTokenizerFiles } from './model-files.js';
import {
  LENGTH_MULTIPLE, TRUNCATIONS, paddedLength,
  type EncodedTexts, type InferenceResult, type TaskReplies, type WorkerConfig, type WorkerReply, type WorkerTask,
} from './protocol.js';
import { classify, createClassifierSession, type ClassifierSession } from './session.js';
import { TextTokenizer } from './tokenizer.js';
import { warmUp, type WarmupReport } from './warmup.js';

interface LoadedModel {
  tokenizer: TextTokenizer;
  /** Absent in a tokenizer worker. */
  classifier: ClassifierSession | undefined;
  /** Absent in a tokenizer worker. */
  warmup: WarmupReport | undefined;
}

const config = workerData as WorkerConfig;

async function load(): Promise<LoadedModel> {
  const { tokenizerJson, tokenizerConfig } = readTokenizerFiles(config.modelDir);
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, config.maxTokens);
  if (config.role === 'tokenize') {
    tokenizer.encode('warm up the tokenizer');
    return { tokenizer, classifier: undefined, warmup: undefined };
  }
  const classifier = await createClassifierSession(config.onnxPath, config.device, config.intraOpThreads, config.numLabels);
  // Shapes up to the largest the batcher can send, so the memory arena grows now rather than under the first
  // heavy load, as far as the time budget allows; the run also measures the model's cost per token here.
  const warmup = await warmUp(async ({ rows, length }) => {
    const ids = new Int32Array(rows * length).fill(tokenizer.padId);
    const offsets = Int32Array.from({ length: rows + 1 }, (_, i) => i * length);
    await classify(classifier, ids, offsets, length, tokenizer.padId);
  }, { maxRows: config.warmupBatchSize, maxTokens: config.maxTokens, budgetMs: config.warmupBudgetMs });
  return { tokenizer, classifier, warmup };
}

function encode(tokenizer: TextTokenizer, texts: string[], truncation: Uint8Array): EncodedTexts {
  const started = performance.now();
  const offsets = new Int32Array(texts.length + 1);
  const truncated = new Uint8Array(texts.length);
  // Encode first, then lay the ids out once in an array of the exact size (no growing array to copy).
  const encoded = texts.map((text, i) => tokenizer.encode(text, TRUNCATIONS[truncation[i]!] ?? 'right'));
  encoded.forEach((text, i) => {
    offsets[i + 1] = offsets[i]! + text.ids.length;
    truncated[i] = text.truncated ? 1 : 0;
  });
  const ids = new Int32Array(offsets[texts.length]!);
  encoded.forEach((text, i) => ids.set(text.ids, offsets[i]!));
  return { ids, offsets, truncated, ms: performance.now() - started };
}

async function infer(model: LoadedModel, ids: Int32Array, offsets: Int32Array): Promise<InferenceResult> {
  if (!model.classifier) throw new Error('a tokenizer worker was sent a batch to run');
  const started = performance.now();
  let longest = 0;
  for (let i = 0; i + 1 < offsets.length; i++) longest = Math.max(longest, offsets[i + 1]! - offsets[i]!);
  const { logits, probabilities } = await classify(model.classifier, ids, offsets, paddedLength(longest, config.maxTokens, LENGTH_MULTIPLE), model.tokenizer.padId);
  return { logits, probabilities, ms: performance.now() - started };
}

/**
 * A reply whose typed arrays are moved to the main thread, not copied. Piscina sends the wrapper's value
 * (the WorkerReply) and transfers its buffers, so the main thread receives exactly a WorkerReply<T>.
 */
function moved<T>(value: T, buffers: ArrayBufferLike[]): WorkerReply<T> {
  const wrapper = { [transferableSymbol]: buffers, [valueSymbol]: { ok: true, value } satisfies WorkerReply<T> };
  return move(wrapper as never) as unknown as WorkerReply<T>;
}

function failure(error: unknown): WorkerReply<never> {
  const err = error as { code?: unknown; message?: unknown };
  return { ok: false, code: typeof err.code === 'string' ? err.code : 'INFERENCE_FAILED', message: String(err.message ?? error) };
}

async function run(model: LoadedModel, task: WorkerTask): Promise<WorkerReply<TaskReplies[WorkerTask['kind']]>> {
  switch (task.kind) {
    case 'encode': {
      const encoded = encode(model.tokenizer, task.texts, task.truncation);
      return moved(encoded, [encoded.ids.buffer, encoded.offsets.buffer, encoded.truncated.buffer]);
    }
    case 'infer': {
      const result = await infer(model, task.ids, task.offsets);
      return moved(result, [result.logits.buffer, result.probabilities.buffer]);
    }
    case 'tokenize':
      return { ok: true, value: task.texts.map((text) => model.tokenizer.tokenize(text, task.addSpecialTokens)) };
    case 'decode':
      return { ok: true, value: task.ids.map((ids) => model.tokenizer.decode(ids, task.skipSpecialTokens)) };
    case 'describe':
      return { ok: true, value: { providers: model.classifier?.providers ?? [], warmupMs: model.warmup?.ms ?? 0, msPerToken: model.warmup?.msPerToken ?? 0, warmupShapes: model.warmup?.ran.length ?? 0 } };
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
