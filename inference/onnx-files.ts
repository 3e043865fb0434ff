// Which ONNX file of a model directory to serve. Hugging Face exports lay their ONNX files out in one of two
// ways, both read unchanged: at the top of the folder (Optimum's `optimum-cli export onnx`: model.onnx,
// model_fp16.onnx...) or in its onnx/ folder (transformers.js and the Hub's ONNX conversions:
// onnx/model.onnx, onnx/model_quantized.onnx, onnx/model_fp16.onnx...). The file is chosen by a dtype named
// as transformers.js names them, and named as transformers.js names it: model + the dtype's suffix + .onnx.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Device } from './protocol.js';

/**
 * transformers.js's dtypes and the suffix each gives the file name (its DATA_TYPES and
 * DEFAULT_DTYPE_SUFFIX_MAPPING; test/onnx-files.test.ts holds this table to the installed transformers.js).
 * q8 is ONNX Runtime's dynamic int8 quantization (8-bit weights, activations quantized at run time), the file
 * `npm run quantize` writes; int8 / uint8 name files quantized with signed / unsigned weights.
 */
export const DTYPE_SUFFIXES = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q2: '_q2',
  q1: '_q1',
  q4f16: '_q4f16',
  q2f16: '_q2f16',
  q1f16: '_q1f16',
  bnb4: '_bnb4',
} as const;

export type Dtype = keyof typeof DTYPE_SUFFIXES;
export const DTYPES = Object.keys(DTYPE_SUFFIXES) as Dtype[];
/** MODEL_DTYPE: a dtype, or auto (see chooseOnnxFile). */
export const MODEL_DTYPES = ['auto', ...DTYPES] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** Folders holding the ONNX files, in the order they are looked in: the top first (this service's older layout). */
const FOLDERS = ['', 'onnx'] as const;

/**
 * What auto serves, best first, where that file exists. On a CPU full precision comes first: an int8 file's
 * accuracy cost is the model's to measure, so a model opts in (MODEL_DTYPE=q8, or its config.json's
 * transformers.js_config). On a GPU, fp16 first, as this service served it before dtypes: a model ships
 * model_fp16.onnx to be served on a GPU.
 */
const AUTO_ORDER: Record<'cpu' | 'gpu', readonly Dtype[]> = {
  cpu: ['fp32', 'q8', 'int8', 'uint8', 'fp16', 'q4', 'bnb4', 'q4f16', 'q2', 'q2f16', 'q1', 'q1f16'],
  gpu: ['fp16', 'fp32', 'q4f16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q2f16', 'q2', 'q1f16', 'q1'],
};

export function onnxFileName(dtype: Dtype): string {
  return `model${DTYPE_SUFFIXES[dtype]}.onnx`;
}

/** The dtype a file's name says (model_quantized.onnx → q8), or undefined for another name. */
export function dtypeOfFileName(path: string): Dtype | undefined {
  const name = basename(path);
  return DTYPES.find((dtype) => onnxFileName(dtype) === name);
}

export interface OnnxFile {
  /** Path relative to the model directory: model.onnx or onnx/model.onnx... */
  file: string;
  dtype: Dtype;
}

/** The ONNX files of a model directory that a dtype names, top level first. */
export function findOnnxFiles(dir: string): OnnxFile[] {
  return FOLDERS.flatMap((folder) => DTYPES
    .map((dtype) => ({ file: folder === '' ? onnxFileName(dtype) : `${folder}/${onnxFileName(dtype)}`, dtype }))
    .filter(({ file }) => existsSync(join(dir, file))));
}

export class OnnxFileError extends Error {
  override name = 'OnnxFileError';
}

/**
 * The file to serve for `dtype`. auto: the dtype the model's config.json asks transformers.js for
 * (`transformers.js_config.dtype`, overlaid by `device_config[device].dtype`) when that file exists, else
 * the first file of AUTO_ORDER for the device.
 */
export function chooseOnnxFile(dir: string, dtype: ModelDtype, device: Device, config: Record<string, unknown>): OnnxFile {
  const found = findOnnxFiles(dir);
  const first = (wanted: Dtype) => found.find((f) => f.dtype === wanted);
  if (dtype !== 'auto') {
    const match = first(dtype);
    if (match === undefined) throw new OnnxFileError(missingMessage(dir, dtype, found));
    return match;
  }
  const asked = configDtype(config, device);
  const chosen = (asked !== undefined ? first(asked) : undefined)
    ?? AUTO_ORDER[device === 'cpu' ? 'cpu' : 'gpu'].map(first).find((f) => f !== undefined);
  if (chosen === undefined) {
    throw new OnnxFileError(`model.onnx not found in ${dir} or its onnx/ folder, nor the file of another dtype (${DTYPES.slice(1).map(onnxFileName).join(', ')})`);
  }
  return chosen;
}

/** transformers.js_config's dtype for `device`, when it names one (a per-file object: its `model` entry). */
function configDtype(config: Record<string, unknown>, device: Device): Dtype | undefined {
  const js = config['transformers.js_config'] as { dtype?: unknown; device_config?: Record<string, { dtype?: unknown }> } | undefined;
  const value = js?.device_config?.[device]?.dtype ?? js?.dtype;
  const named = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).model : value;
  return typeof named === 'string' && (DTYPES as string[]).includes(named) ? named as Dtype : undefined;
}

function missingMessage(dir: string, dtype: Dtype, found: OnnxFile[]): string {
  const name = onnxFileName(dtype);
  const have = found.length === 0 ? 'no ONNX file of any dtype' : `the ONNX files there: ${found.map((f) => `${f.file} (${f.dtype})`).join(', ')}`;
  const hint = dtype === 'q8' ? `; make it with \`npm run quantize -- ${dir}\``
    : dtype === 'fp16' ? '; convert model.onnx with tools/convert-fp16.py'
      : '';
  return `MODEL_DTYPE=${dtype} serves ${name} (at the top of ${dir} or in its onnx/ folder), which is not there; ${have}${hint}`;
}
