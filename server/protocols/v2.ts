// The Open Inference Protocol, version 2 (KServe V2, spoken by Triton, MLServer, OpenVINO Model Server), REST
// flavour (docs/specs/open-inference-protocol/): pure mappings between its tensors and the predictor's
// texts and results. The model's signature, after its head (config.json problem_type):
//   input  text           BYTES [n] or [n, 1]   the texts, one per row
//   output label          BYTES [n]             the most likely label (classification heads)
//   output probabilities  FP32  [n, labels]     softmax (single-label) or a sigmoid per label (multi-label), in
//                                               the order of the model's labels (config.json id2label)
//   output value          FP32  [n, outputs]    a regression head's values, in place of label and probabilities
//   output logits         FP32  [n, labels]     the raw model output, same order
import { HttpError } from '../http-errors.js';
import type { ModelDescription } from '../../core/model.js';
import type { TextResult, Truncation } from '../../core/predictor.js';

const invalidTensor = (message: string) => new HttpError('INVALID_TENSOR', message);
export const modelNotFound = (message: string) => new HttpError('MODEL_NOT_FOUND', message);

export const V2_INPUT = 'text';
export type V2OutputName = 'label' | 'probabilities' | 'value' | 'logits';
const CLASSIFIER_OUTPUTS: readonly V2OutputName[] = ['label', 'probabilities', 'logits'];
const REGRESSION_OUTPUTS: readonly V2OutputName[] = ['value', 'logits'];

/** The outputs of a model, by its head. */
export function v2Outputs(model: Pick<ModelDescription, 'problemType'>): readonly V2OutputName[] {
  return model.problemType === 'regression' ? REGRESSION_OUTPUTS : CLASSIFIER_OUTPUTS;
}
/**
 * A name that always reaches the served model, whatever its directory is called: clients and dashboards
 * configured with it keep working when an operator serves another model directory.
 */
export const V2_MODEL_ALIAS = 'sentiment';
/** The ONNX Runtime platform name of the protocol's list. */
export const V2_PLATFORM = 'onnx_onnxv1';

export type V2Parameters = Record<string, string | number | boolean>;

export interface V2RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: V2Parameters;
  data: unknown[];
}

export interface V2InferRequest {
  id?: string;
  parameters?: V2Parameters;
  inputs: V2RequestInput[];
  outputs?: { name: string; parameters?: V2Parameters }[];
}

/** The served model when `name` (and `version`, if given) designate it; 404 otherwise. */
export function v2Model(model: ModelDescription, name: string, version?: string): ModelDescription {
  if (name !== model.name && name !== V2_MODEL_ALIAS) {
    throw modelNotFound(`unknown model '${name}'; this server serves '${model.name}' (also reachable as '${V2_MODEL_ALIAS}')`);
  }
  if (version !== undefined && version !== model.version) {
    throw modelNotFound(`unknown version '${version}' of model '${name}'; the version served is '${model.version}'`);
  }
  return model;
}

const SIGNATURE = `the model takes one input '${V2_INPUT}' of datatype BYTES and shape [n] or [n, 1]`;

/** The texts of an inference request: its one BYTES input, flat or in its natural [n, 1] nesting. */
export function v2Texts(request: V2InferRequest): string[] {
  if (request.inputs.length !== 1) throw invalidTensor(`${request.inputs.length} inputs; ${SIGNATURE}`);
  const input = request.inputs[0]!;
  if (input.name !== V2_INPUT) throw invalidTensor(`unknown input '${input.name}'; ${SIGNATURE}`);
  if (input.datatype !== 'BYTES') throw invalidTensor(`input '${V2_INPUT}' has datatype ${input.datatype}; ${SIGNATURE}`);
  const { shape, data } = input;
  if (shape.length < 1 || shape.length > 2 || (shape.length === 2 && shape[1] !== 1) || shape[0]! < 1) {
    throw invalidTensor(`input '${V2_INPUT}' has shape [${shape.join(', ')}]; ${SIGNATURE}, n >= 1`);
  }
  const n = shape[0]!;
  // Flat (row-major) or nested as the shape says; never deeper (no recursion over client-chosen depth).
  const texts = data.every((item) => typeof item === 'string') ? data
    : shape.length === 2 && data.every((row) => Array.isArray(row) && row.length === 1 && typeof row[0] === 'string')
      ? (data as string[][]).map((row) => row[0]!)
      : undefined;
  if (texts === undefined) throw invalidTensor(`input '${V2_INPUT}' data must be ${n} strings (flat, or as [n, 1] rows of one string)`);
  if (texts.length !== n) throw invalidTensor(`input '${V2_INPUT}' has shape [${shape.join(', ')}] but ${texts.length} elements`);
  return texts;
}

/** The outputs a request asks for (all of the model's when it names none), in its order. */
export function v2RequestedOutputs(request: V2InferRequest, model: Pick<ModelDescription, 'problemType'>): V2OutputName[] {
  const known = v2Outputs(model);
  if (request.outputs === undefined) return [...known];
  const names = request.outputs.map(({ name }) => name);
  for (const [i, name] of names.entries()) {
    if (!(known as readonly string[]).includes(name)) throw invalidTensor(`unknown output '${name}'; the model's outputs are ${known.join(', ')}`);
    if (names.indexOf(name) !== i) throw invalidTensor(`output '${name}' is requested twice`);
  }
  return names as V2OutputName[];
}

/**
 * The protocol defines no parameter yet and lets a server define its own; this one reads `truncation`
 * (right, the service's default: cut the end; left; none: refuse a text longer than the model reads, 413).
 * Other parameters (MLServer clients send content_type, for instance) are accepted and ignored.
 */
export function v2Truncation(parameters: V2Parameters | undefined): Truncation {
  const value = parameters?.truncation;
  if (value === undefined) return 'right';
  if (value === 'right' || value === 'left' || value === 'none') return value;
  throw invalidTensor(`parameter truncation is ${JSON.stringify(value)}; use "right", "left" or "none"`);
}

export function v2InferResponse(model: ModelDescription, results: readonly TextResult[], outputs: readonly V2OutputName[], id: string | undefined) {
  const n = results.length;
  const width = model.labels.length;
  const matrix = (pick: (result: TextResult) => Float32Array) => {
    const data = new Array<number>(n * width);
    results.forEach((result, i) => { const row = pick(result); for (let k = 0; k < width; k++) data[i * width + k] = row[k]!; });
    return data;
  };
  const tensor = (name: V2OutputName) => name === 'label'
    ? { name, datatype: 'BYTES', shape: [n], data: results.map((result) => model.labels[result.labelIndex]!) }
    : { name, datatype: 'FP32', shape: [n, width], data: matrix(name === 'logits' ? (r) => r.logits : (r) => r.scores) };
  return {
    model_name: model.name,
    model_version: model.version,
    ...(id !== undefined ? { id } : {}),
    outputs: outputs.map(tensor),
  };
}

export function v2ModelMetadata(model: ModelDescription) {
  const width = model.labels.length;
  return {
    name: model.name,
    versions: [model.version],
    platform: V2_PLATFORM,
    inputs: [{ name: V2_INPUT, datatype: 'BYTES', shape: [-1] }],
    outputs: v2Outputs(model).map((name) => (name === 'label' ? { name, datatype: 'BYTES', shape: [-1] } : { name, datatype: 'FP32', shape: [-1, width] })),
    // The protocol's free-form string properties: what a client needs to read the FP32 outputs' columns, what
    // they mean, and what is done to a text before the model reads it.
    properties: {
      labels: JSON.stringify(model.labels), max_tokens: String(model.maxTokens), sha256: model.sha256, dtype: model.dtype,
      problem_type: model.problemType, text_preprocessing: JSON.stringify(model.preprocessing),
    },
  };
}

export function v2ServerMetadata(name: string, version: string) {
  return { name, version, extensions: [] as string[] };
}
