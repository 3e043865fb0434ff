// The inference pool: a fixed set of Piscina worker threads, each owning a tokenizer and one ONNX Runtime
// session. The main thread never tokenizes or runs the model; it only moves typed arrays to and fro.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { WorkerCrashedError, errorFromWorker } from './errors.js';
import type { ModelFiles } from './model-files.js';
import type {
  Device, EncodedTexts, InferenceResult, WorkerConfig, WorkerDescription, WorkerReply, WorkerTask,
} from './protocol.js';

export interface InferencePoolOptions {
  files: ModelFiles;
  device: Device;
  workers: number;
  intraOpThreads: number;
  lengthMultiple: number;
  warmupBatchSize: number;
}

// Compiled, this module is pool.js beside worker.js; under a TypeScript loader (tests) it is pool.ts
// beside worker.ts, and Node's worker threads inherit the loader.
const here = fileURLToPath(import.meta.url);
const workerFile = here.slice(0, -extname(here).length).replace(/pool$/, 'worker') + extname(here);

export class InferencePool {
  readonly files: ModelFiles;
  readonly device: Device;
  readonly workers: number;
  readonly intraOpThreads: number;
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
  }

  /**
   * Starts the workers and resolves once every one has loaded the model and warmed up, or rejects with the
   * first worker's reason (a missing execution provider, a model ONNX Runtime refuses, …).
   */
  static async start(options: InferencePoolOptions): Promise<InferencePool> {
    const workerData: WorkerConfig & { numLabels: number } = {
      onnxPath: options.files.onnxPath,
      modelDir: options.files.dir,
      maxTokens: options.files.maxTokens,
      numLabels: options.files.labels.length,
      device: options.device,
      intraOpThreads: options.intraOpThreads,
      lengthMultiple: options.lengthMultiple,
      warmupBatchSize: options.warmupBatchSize,
    };
    const piscina = new Piscina({
      filename: workerFile,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      workerData,
    });
    try {
      // One describe task per worker: each waits for its worker's model load and warm-up.
      const descriptions = await Promise.all(
        Array.from({ length: options.workers }, () => call<WorkerDescription>(piscina, { kind: 'describe' })),
      );
      const started = new InferencePool(piscina, options, descriptions[0]!);
      // Piscina replaces a worker that dies; count each for the metrics and logs.
      piscina.on('workerDestroy', () => started.#workerGone());
      return started;
    } catch (error) {
      await piscina.destroy();
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

  /** Worker threads, for tests that kill one. */
  get threads(): readonly { terminate(): Promise<number> }[] {
    return this.#piscina.threads;
  }

  encode(texts: string[]): Promise<EncodedTexts> {
    return call<EncodedTexts>(this.#piscina, { kind: 'encode', texts });
  }

  /** Runs one batch; `ids` and `offsets` are moved to the worker and unusable here afterwards. */
  infer(ids: Int32Array, offsets: Int32Array): Promise<InferenceResult> {
    return call<InferenceResult>(this.#piscina, { kind: 'infer', ids, offsets }, [ids.buffer, offsets.buffer]);
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

async function call<T>(piscina: Piscina, task: WorkerTask, transferList: ArrayBufferLike[] = []): Promise<T> {
  let reply: WorkerReply<T>;
  try {
    reply = await piscina.run(task, { transferList: transferList as never });
  } catch (error) {
    // The worker died with the task (crash, out of memory, terminated): the pool starts a new one.
    throw new WorkerCrashedError(error);
  }
  if (!reply.ok) throw errorFromWorker(reply.code, reply.message);
  return reply.value;
}
