// Failures of the inference layer, each with a stable code the server maps to an HTTP status.

/** The execution provider asked for by DEVICE cannot start here; raised at start-up, never per request. */
export class ExecutionProviderError extends Error {
  override name = 'ExecutionProviderError';
  readonly code = 'EXECUTION_PROVIDER_UNAVAILABLE';
}

/** The model cannot be served: a missing input, a wrong output, a file ONNX Runtime refuses. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  readonly code = 'MODEL_LOAD_FAILED';
}

/** The worker running a batch died; the batch's requests fail, the pool replaces the worker. */
export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
  readonly code = 'WORKER_CRASHED';
  constructor(cause: unknown) {
    super('the inference worker running this request stopped; it is being replaced', { cause });
  }
}

/** ONNX Runtime failed on a batch it had accepted. */
export class InferenceFailedError extends Error {
  override name = 'InferenceFailedError';
  readonly code = 'INFERENCE_FAILED';
}

/** Rebuilds a worker's error value as the matching class on the main thread. */
export function errorFromWorker(code: string, message: string): Error {
  switch (code) {
    case 'EXECUTION_PROVIDER_UNAVAILABLE': return new ExecutionProviderError(message);
    case 'MODEL_LOAD_FAILED': return new ModelLoadError(message);
    default: return new InferenceFailedError(message);
  }
}
