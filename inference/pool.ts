// The inference pool: worker threads that own the model. Tokenizer workers (a few, light) turn texts into
// ids; inference workers (WORKERS, each with one ONNX Runtime session) run batches. Separate threads keep
// tokenizing from queueing behind a running batch, so the batcher's count of busy inference workers is
// exact. The main thread never tokenizes or runs the model; it only moves typed arrays to and fro.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { WorkerCrashedError, errorFromWorker } from './errors.js';
import type { ModelFiles } from './model-files.js';
import {
  TRUNCATIONS,
  type Device, type EncodedTexts, type InferenceResult, type TaskReplies, type TokenDetail, type Truncation,
  type WorkerConfig, type WorkerDescription, type WorkerReply, type WorkerRole, type WorkerTask,
} from './protocol.js';

export interface InferencePoolOptions {
  files: ModelFiles;
  device: Device;
  workers: number;
  intraOpThreads: number;
  tokenizerThreads: number;
  warmupBatchSize: number;
  warmupBudgetMs: number;
  /** The worker module; tests wrap the real one to inject faults. Defaults to worker.js beside this file. */
  workerFile?: string;
}

// Compiled, this module is pool.js beside worker.js; under a TypeScript loader (tests) it is pool.ts
// beside worker.ts, and Node's worker threads inherit the loader.
const here = fileURLToPath(import.meta.url);
const defaultWorkerFile = here.slice(0, -extname(here).length).replace(/pool$/, 'worker') + extname(here);

export class InferencePool {
  readonly files: ModelFiles;
  readonly device: Device;
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly tokenizerThreads: number;
  /** What the first inference worker reported after its warm-up. */
  readonly description: WorkerDescription;
  readonly #inferenceWorkers: Piscina;
  readonly #tokenizerWorkers: Piscina;
  #crashes = 0;
  #closing = false;
  #onCrash: (() => void) | undefined;

  private constructor(sessions: Piscina, tokenizers: Piscina, options: InferencePoolOptions, description: WorkerDescription) {
    this.#inferenceWorkers = sessions;
    this.#tokenizerWorkers = tokenizers;
    this.files = options.files;
    this.device = options.device;
    this.workers = options.workers;
    this.intraOpThreads = options.intraOpThreads;
    this.tokenizerThreads = options.tokenizerThreads;
    this.description = description;
    for (const piscina of [sessions, tokenizers]) piscina.on('workerDestroy', () => this.#workerGone());
  }

  /**
   * Starts the workers and resolves once every one has loaded the model (inference workers: and warmed up),
   * or rejects with the first worker's reason (a missing execution provider, a model ONNX Runtime refuses, …).
   */
  static async start(options: InferencePoolOptions): Promise<InferencePool> {
    const sessions = startPiscina(options, 'infer', options.workers);
    const tokenizers = startPiscina(options, 'tokenize', options.tokenizerThreads);
    try {
      // One describe task per worker: each waits for its worker's model load and warm-up.
      const [descriptions] = await Promise.all([
        Promise.all(Array.from({ length: options.workers }, () => call(sessions, { kind: 'describe' }))),
        Promise.all(Array.from({ length: options.tokenizerThreads }, () => call(tokenizers, { kind: 'describe' }))),
      ]);
      return new InferencePool(sessions, tokenizers, options, descriptions[0]!);
    } catch (error) {
      // close(), not destroy(): a worker still warming up is inside a native ONNX Runtime call, and
      // terminating a thread there aborts the whole process (onnxruntime-node cannot be interrupted).
      await Promise.all([sessions.close(), tokenizers.close()]);
      throw error;
    }
  }

  /** Workers that died while this pool ran (each replaced). */
  get crashes(): number {
    return this.#crashes;
  }

  /** Called whenever a worker dies. */
  onCrash(listener: () => void): void {
    this.#onCrash = listener;
  }

  /** The live threads of one role, for tests that kill one. */
  threadsOf(role: WorkerRole): readonly { terminate(): Promise<number> }[] {
    return role === 'infer' ? this.#inferenceWorkers.threads : this.#tokenizerWorkers.threads;
  }

  /** Token ids of texts, each cut as its `truncation` says (default: at its end). */
  encode(texts: string[], truncation?: readonly Truncation[]): Promise<EncodedTexts> {
    const codes = new Uint8Array(texts.length);
    if (truncation) truncation.forEach((mode, i) => { codes[i] = TRUNCATIONS.indexOf(mode); });
    return call(this.#tokenizerWorkers, { kind: 'encode', texts, truncation: codes }, [codes.buffer]);
  }

  /** Runs one batch; `ids` and `offsets` are moved to the worker and unusable here afterwards. */
  infer(ids: Int32Array, offsets: Int32Array): Promise<InferenceResult> {
    return call(this.#inferenceWorkers, { kind: 'infer', ids, offsets }, [ids.buffer, offsets.buffer]);
  }

  /** Every token of each text with its string, in a tokenizer worker. */
  tokenize(texts: string[], addSpecialTokens: boolean): Promise<TokenDetail[][]> {
    return call(this.#tokenizerWorkers, { kind: 'tokenize', texts, addSpecialTokens });
  }

  /** Token ids back to texts, in a tokenizer worker. */
  decode(ids: number[][], skipSpecialTokens: boolean): Promise<string[]> {
    return call(this.#tokenizerWorkers, { kind: 'decode', ids, skipSpecialTokens });
  }

  /** Waits for running tasks, then stops the workers. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([this.#inferenceWorkers.close(), this.#tokenizerWorkers.close()]);
  }

  #workerGone(): void {
    if (this.#closing) return;
    this.#crashes++;
    this.#onCrash?.();
  }
}

function startPiscina(options: InferencePoolOptions, role: WorkerRole, threads: number): Piscina {
  const workerData: WorkerConfig = {
    role,
    onnxPath: options.files.onnxPath,
    modelDir: options.files.dir,
    maxTokens: options.files.maxTokens,
    numLabels: options.files.labels.length,
    device: options.device,
    intraOpThreads: options.intraOpThreads,
    warmupBatchSize: options.warmupBatchSize,
    warmupBudgetMs: options.warmupBudgetMs,
  };
  return new Piscina({
    filename: options.workerFile ?? defaultWorkerFile,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: 1,
    workerData,
  });
}

/** Runs a task in a worker; the reply's type follows from the task's kind (protocol.ts TaskReplies). */
async function call<K extends WorkerTask['kind']>(
  piscina: Piscina, task: Extract<WorkerTask, { kind: K }>, transferList: ArrayBufferLike[] = [],
): Promise<TaskReplies[K]> {
  let reply: WorkerReply<TaskReplies[K]>;
  try {
    reply = await piscina.run(task, { transferList: transferList as never });
  } catch (error) {
    // The worker died with the task (crash, out of memory, terminated): Piscina starts a new one.
    throw new WorkerCrashedError(error);
  }
  if (!reply.ok) throw errorFromWorker(reply.code, reply.message);
  return reply.value;
}
