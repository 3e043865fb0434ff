// Reads and writes ONNX model files with protobufjs over ONNX's own schema (quantize/onnx.proto, copied from
// the ONNX project with its licence beside it), so that the quantizer needs npm packages only.
//
// Messages stay protobufjs messages from decode to encode: a field the quantizer does not touch is written
// back as it was read (int64 values included, as Long objects: converting them to numbers would corrupt the
// INT64_MAX that Slice ends hold). Only the fields typed below are read or made here.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT64: 7 } as const;
/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2 } as const;
const EXTERNAL = 1;

/** protobufjs gives int64 fields as Long objects (long.js), or numbers when made here. */
export type Int64 = number | { toNumber(): number };

export interface TensorProto {
  name?: string;
  dims?: Int64[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  data_location?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  t?: TensorProto;
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface ValueInfoProto {
  name?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

export interface ModelProto {
  graph?: GraphProto;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  metadata_props?: { key?: string; value?: string }[];
}

let modelType: protobuf.Type | undefined;

/** ModelProto of the ONNX schema, parsed once with the schema's own field names (raw_data, op_type...). */
function modelProto(): protobuf.Type {
  if (modelType === undefined) {
    const schema = readFileSync(new URL('./onnx.proto', import.meta.url), 'utf8');
    modelType = protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

export function toNumber(value: Int64 | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Protobuf's limit on one message: larger models keep their weights in external files. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

export function readModel(path: string): ModelProto {
  if (statSync(path).size > PROTOBUF_LIMIT) throw new Error(`${path} is over 2 GiB: models with external weight files are not supported`);
  return modelProto().decode(readFileSync(path)) as unknown as ModelProto;
}

export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProto();
  return type.encode(model).finish();
}

export function writeModel(path: string, model: ModelProto): number {
  const bytes = encodeModel(model);
  writeFileSync(path, bytes);
  return bytes.length;
}

/** The values of a FLOAT initializer, whether stored as raw_data (little-endian) or float_data. */
export function floatValues(tensor: TensorProto): Float32Array {
  if (tensor.data_location === EXTERNAL) throw new Error(`initializer ${tensor.name} is stored in an external file: not supported`);
  if (tensor.data_type !== DataType.FLOAT) throw new Error(`initializer ${tensor.name} is not float32`);
  const raw = tensor.raw_data;
  if (raw !== undefined && raw.length > 0) {
    // A copy: raw_data is a view into the file's buffer, at any byte offset (Float32Array needs 4-aligned).
    const copy = new Uint8Array(raw);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(tensor.float_data ?? []);
}

export function dimsOf(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map(toNumber);
}

/** A new initializer holding `data` as raw_data. */
export function tensor(name: string, dataType: number, dims: number[], data: ArrayBufferView): TensorProto {
  return { name, data_type: dataType, dims, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = node.attribute?.find((a) => a.name === name);
  return attribute === undefined ? fallback : toNumber(attribute.i);
}

export function floatAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = node.attribute?.find((a) => a.name === name);
  return attribute?.f ?? fallback;
}

/** The opset version the model imports for the default ONNX domain. */
export function defaultOpset(model: ModelProto): number {
  const entry = model.opset_import?.find((o) => o.domain === undefined || o.domain === '' || o.domain === 'ai.onnx');
  return toNumber(entry?.version);
}
