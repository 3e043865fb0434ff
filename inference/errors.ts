// Failures of the inference layer, each with a stable code (on the class too: the core's error table is keyed
// by it).

/** The execution provider asked for by DEVICE cannot start here; raised at start-up, never per request. */
export class ExecutionProviderError extends Error {
  static readonly code = 'EXECUTION_PROVIDER_UNAVAILABLE';
  override name = 'ExecutionProviderError';
  readonly code = ExecutionProviderError.code;
}

/** The model cannot be served: a missing input, a wrong output, a file ONNX Runtime refuses. */
export class ModelLoadError extends Error {
  static readonly code = 'MODEL_LOAD_FAILED';
  override name = 'ModelLoadError';
  readonly code = ModelLoadError.code;
}

/** The worker running a batch died; the batch's requests fail, the pool replaces the worker. */
export class WorkerCrashedError extends Error {
  static readonly code = 'WORKER_CRASHED';
  override name = 'WorkerCrashedError';
  readonly code = WorkerCrashedError.code;
  constructor(cause: unknown) {
    super('the inference worker running this request stopped; it is being replaced', { cause });
  }
}

/** ONNX Runtime failed on a batch it had accepted. */
export class InferenceFailedError extends Error {
  static readonly code = 'INFERENCE_FAILED';
  override name = 'InferenceFailedError';
  readonly code = InferenceFailedError.code;
}

/** Rebuilds a worker's error value as the matching class on the main thread. */
export function errorFromWorker(code: string, message: string): Error {
  switch (code) {
    case ExecutionProviderError.code: return new ExecutionProviderError(message);
    case ModelLoadError.code: return new ModelLoadError(message);
    default: return new InferenceFailedError(message);
  }
}
