// The inference pool: WORKERS worker threads, each with the model's tokenizer and one ONNX Runtime session.
// A batch goes to a worker as its texts and comes back scored, in one task: one thread hand-off each way
// per batch. The main thread never tokenizes or runs the model.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { WorkerCrashedError, errorFromWorker } from './errors.js';
import type { ModelFiles } from './model-files.js';
import { activationOf } from './model-head.js';
import type { RunLimits } from './run-plan.js';
import type {
  Device, ScoredBatch, TaskReplies, TokenDetail, WorkerConfig, WorkerDescription, WorkerReply, WorkerTask,
} from './protocol.js';

export interface InferencePoolOptions {
  files: ModelFiles;
  device: Device;
  workers: number;
  intraOpThreads: number;
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
  /** What the first worker reported after its warm-up. */
  readonly description: WorkerDescription;
  readonly #piscina: Piscina;
  #crashes = 0;
  #closing = false;
  #onCrash: (() => void) | undefined;

  private constructor(piscina: Piscina, options: InferencePoolOptions, description: WorkerDescription) {
    this.#piscina = piscina;
    this.files = options.files;
    this.device = options.device;
    this.workers = options.workers;
    this.intraOpThreads = options.intraOpThreads;
    this.description = description;
    piscina.on('workerDestroy', () => this.#workerGone());
  }

  /**
   * Starts the workers and resolves once every one has loaded the model and warmed up, or rejects with the
   * first worker's reason (a missing execution provider, a model ONNX Runtime refuses, …).
   */
  static async start(options: InferencePoolOptions): Promise<InferencePool> {
    const piscina = startPiscina(options);
    try {
      // One describe task per worker: each waits for its worker's model load and warm-up.
      const descriptions = await Promise.all(Array.from({ length: options.workers }, () => call(piscina, { kind: 'describe' })));
      return new InferencePool(piscina, options, descriptions[0]!);
    } catch (error) {
      // close(), not destroy(): a worker still warming up is inside a native ONNX Runtime call, and
      // terminating a thread there aborts the whole process (onnxruntime-node cannot be interrupted).
      await piscina.close();
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

  /** The live worker threads. */
  get threads(): number {
    return this.#piscina.threads.length;
  }

  /**
   * Tokenizes and scores one batch in a worker; `truncation` (an index into TRUNCATIONS per text) is moved
   * to the worker. Its runs keep to `runs` (run-plan.ts).
   */
  score(texts: string[], truncation: Uint8Array, runs: RunLimits): Promise<ScoredBatch> {
    return call(this.#piscina, { kind: 'score', texts, truncation, runs }, [truncation.buffer]);
  }

  /** Every token of each text with its string. */
  tokenize(texts: string[], addSpecialTokens: boolean): Promise<TokenDetail[][]> {
    return call(this.#piscina, { kind: 'tokenize', texts, addSpecialTokens });
  }

  /** Token ids back to texts. */
  decode(ids: number[][], skipSpecialTokens: boolean): Promise<string[]> {
    return call(this.#piscina, { kind: 'decode', ids, skipSpecialTokens });
  }

  /** Waits for running tasks, then stops the workers. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#piscina.close();
  }

  #workerGone(): void {
    if (this.#closing) return;
    this.#crashes++;
    this.#onCrash?.();
  }
}

function startPiscina(options: InferencePoolOptions): Piscina {
  const workerData: WorkerConfig = {
    onnxPath: options.files.onnxPath,
    modelDir: options.files.dir,
    maxTokens: options.files.maxTokens,
    numLabels: options.files.labels.length,
    activation: activationOf(options.files.problemType),
    device: options.device,
    intraOpThreads: options.intraOpThreads,
    warmupBatchSize: options.warmupBatchSize,
    warmupBudgetMs: options.warmupBudgetMs,
  };
  return new Piscina({
    filename: options.workerFile ?? defaultWorkerFile,
    minThreads: options.workers,
    maxThreads: options.workers,
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
    reply = await piscina.run(task, { transferList: transferList as never }) as WorkerReply<TaskReplies[K]>;
  } catch (error) {
    // The worker died with the task (crash, out of memory, terminated): Piscina starts a new one.
    throw new WorkerCrashedError(error);
  }
  if (!reply.ok) throw errorFromWorker(reply.code, reply.message);
  return reply.value;
}
