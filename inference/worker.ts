// The Piscina worker, in one of two roles (protocol.ts): a tokenizer worker loads the model's tokenizer; an
// inference worker also loads one ONNX Runtime session and warms it up at the largest batch shape. Either
// then answers tasks. It never throws across the thread boundary: failures come back as
// { ok: false, code, message } so the pool can tell them from a worker that died.
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { readTokenizerFiles } from './model-files.js';
import type { EncodedTexts, InferenceResult, WorkerConfig, WorkerDescription, WorkerReply, WorkerTask } from './protocol.js';
import { classify, createClassifierSession, type ClassifierSession } from './session.js';
import { TextTokenizer } from './tokenizer.js';

interface LoadedModel {
  tokenizer: TextTokenizer;
  /** Absent in a tokenizer worker. */
  classifier: ClassifierSession | undefined;
  warmupMs: number;
}

const config = workerData as WorkerConfig;

async function load(): Promise<LoadedModel> {
  const { tokenizerJson, tokenizerConfig } = readTokenizerFiles(config.modelDir);
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, config.maxTokens);
  if (config.role === 'tokenize') {
    tokenizer.encode('warm up the tokenizer');
    return { tokenizer, classifier: undefined, warmupMs: 0 };
  }
  const classifier = await createClassifierSession(config.onnxPath, config.device, config.intraOpThreads, config.numLabels);
  const started = performance.now();
  // Warm up at the largest shape the batcher can send, so the memory arena reaches its peak now rather than
  // under the first heavy load, and at the smallest, which a lone request uses.
  for (const [texts, length] of [[config.warmupBatchSize, config.maxTokens], [1, Math.min(config.lengthMultiple, config.maxTokens)]] as const) {
    const ids = new Int32Array(texts * length).fill(tokenizer.padId);
    const offsets = Int32Array.from({ length: texts + 1 }, (_, i) => i * length);
    await classify(classifier, ids, offsets, length, tokenizer.padId);
  }
  return { tokenizer, classifier, warmupMs: performance.now() - started };
}

function encode(tokenizer: TextTokenizer, texts: string[]): EncodedTexts {
  const started = performance.now();
  const offsets = new Int32Array(texts.length + 1);
  const truncated = new Uint8Array(texts.length);
  const all: number[] = [];
  texts.forEach((text, i) => {
    const encoded = tokenizer.encode(text);
    for (const id of encoded.ids) all.push(id);
    offsets[i + 1] = all.length;
    truncated[i] = encoded.truncated ? 1 : 0;
  });
  return { ids: Int32Array.from(all), offsets, truncated, ms: performance.now() - started };
}

async function infer(model: LoadedModel, ids: Int32Array, offsets: Int32Array): Promise<InferenceResult> {
  if (!model.classifier) throw new Error('a tokenizer worker was sent a batch to run');
  const started = performance.now();
  let longest = 0;
  for (let i = 0; i + 1 < offsets.length; i++) longest = Math.max(longest, offsets[i + 1]! - offsets[i]!);
  const multiple = config.lengthMultiple;
  const paddedLength = Math.min(Math.ceil(longest / multiple) * multiple, config.maxTokens);
  const probabilities = await classify(model.classifier, ids, offsets, paddedLength, model.tokenizer.padId);
  return { probabilities, ms: performance.now() - started };
}

/** Wraps a reply so that its typed arrays are moved to the main thread, not copied. */
function reply<T>(value: T, buffers: ArrayBufferLike[]): unknown {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: { ok: true, value } satisfies WorkerReply<T> } as never);
}

function failure(error: unknown): WorkerReply<never> {
  const err = error as { code?: unknown; message?: unknown };
  return { ok: false, code: typeof err.code === 'string' ? err.code : 'INFERENCE_FAILED', message: String(err.message ?? error) };
}

async function handlerFor(loading: Promise<LoadedModel>) {
  let model: LoadedModel;
  try {
    model = await loading;
  } catch (error) {
    // The model or provider cannot load: every task (first of all the pool's start-up check) says why.
    const loadFailure = failure(error);
    return async () => loadFailure;
  }
  return async function handle(task: WorkerTask): Promise<unknown> {
    try {
      switch (task.kind) {
        case 'encode': {
          const encoded = encode(model.tokenizer, task.texts);
          return reply(encoded, [encoded.ids.buffer, encoded.offsets.buffer, encoded.truncated.buffer]);
        }
        case 'infer': {
          const result = await infer(model, task.ids, task.offsets);
          return reply(result, [result.probabilities.buffer]);
        }
        case 'describe': {
          const description: WorkerDescription = {
            role: config.role,
            threadId,
            providers: model.classifier?.providers ?? [],
            inputNames: model.classifier ? [...model.classifier.session.inputNames] : [],
            warmupMs: model.warmupMs,
          };
          return { ok: true, value: description } satisfies WorkerReply<WorkerDescription>;
        }
      }
    } catch (error) {
      return failure(error);
    }
  };
}

// Piscina awaits a promised default export before the worker reports ready, so a replacement worker
// takes no task until its model is loaded and warm.
export default handlerFor(load());
