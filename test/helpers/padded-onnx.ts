// A large but valid ONNX model for tests that need the size of a real one (hundreds of megabytes) without its
// training: a small model's graph with one unused float initializer of the size asked for appended. ONNX
// Runtime loads it (and drops the unused initializer), so the file is read, hashed and loaded in full.
// The model file is protobuf: ModelProto field 7 is the graph; GraphProto field 5 is an initializer.
import { readFileSync } from 'node:fs';

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function readVarint(buffer: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  let offset = at;
  for (;;) {
    const byte = buffer[offset++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, offset];
    scale *= 0x80;
  }
}

/** A length-delimited protobuf field. */
function field(number: number, payload: Buffer): Buffer {
  return Buffer.concat([varint(number * 8 + 2), varint(payload.length), payload]);
}

/** `source` (a model.onnx) with an unused float32 initializer of `megabytes` MiB added to its graph. */
export function paddedOnnx(source: string, megabytes: number): Buffer {
  const model = readFileSync(source);
  const floats = (megabytes * 1024 * 1024) / 4;
  const tensor = Buffer.concat([
    Buffer.concat([varint(1 * 8 + 0), varint(floats)]), // dims: [floats]
    Buffer.concat([varint(2 * 8 + 0), varint(1)]), // data_type: FLOAT
    field(8, Buffer.from('unused_padding')), // name
    field(9, Buffer.alloc(floats * 4)), // raw_data
  ]);
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < model.length) {
    const start = offset;
    const [tag, afterTag] = readVarint(model, offset);
    const wireType = tag % 8;
    let end: number;
    if (wireType === 0) end = readVarint(model, afterTag)[1];
    else if (wireType === 1) end = afterTag + 8;
    else if (wireType === 5) end = afterTag + 4;
    else {
      const [length, afterLength] = readVarint(model, afterTag);
      end = afterLength + length;
      if (Math.floor(tag / 8) === 7) {
        parts.push(field(7, Buffer.concat([model.subarray(afterLength, end), field(5, tensor)])));
        offset = end;
        continue;
      }
    }
    parts.push(model.subarray(start, end));
    offset = end;
  }
  return Buffer.concat(parts);
}
