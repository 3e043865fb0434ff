// Linear 8-bit quantization of a weight matrix, as ONNX's MatMulInteger reads it: w ≈ scale × (q − zero_point),
// one scale and zero point for the whole matrix or one per column (per output feature: the columns of a
// MatMul weight [K, N] are what a per-column b_scale / b_zero_point of MatMulInteger index).
//
// s8 is symmetric (zero point 0), u8 asymmetric (zero point where 0.0 lands). reduceRange keeps s8 weights in
// ±63 (7 bits): on an x86 CPU without VNNI, ONNX Runtime multiplies u8 activations by s8 weights with
// VPMADDUBSW, which adds two products into a saturating int16; 255 × 127 × 2 overflows it, 255 × 63 × 2 does
// not. u8 weights take ONNX Runtime's u8u8 kernels, which never saturate.

export type WeightType = 's8' | 'u8';

export interface WeightQuantization {
  type: WeightType;
  /** One scale per column instead of one for the matrix. */
  perChannel: boolean;
  /** 7-bit weights (see above). */
  reduceRange: boolean;
}

export interface QuantizedWeight {
  /** Row-major [rows, cols], like the input. */
  data: Int8Array | Uint8Array;
  /** One value, or one per column. */
  scale: Float32Array;
  zeroPoint: Int8Array | Uint8Array;
}

/** Quantizes `values`, a row-major [rows, cols] matrix. */
export function quantizeWeight(values: Float32Array, rows: number, cols: number, options: WeightQuantization): QuantizedWeight {
  if (values.length !== rows * cols) throw new RangeError(`weight has ${values.length} values, not ${rows} × ${cols}`);
  const channels = options.perChannel ? cols : 1;
  const min = new Float64Array(channels);
  const max = new Float64Array(channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      const k = options.perChannel ? c : 0;
      if (v < min[k]!) min[k] = v;
      if (v > max[k]!) max[k] = v;
    }
  }
  const symmetric = options.type === 's8';
  // s8 spans [-qmax, qmax]; u8 spans [0, qmax].
  const qmax = symmetric ? (options.reduceRange ? 63 : 127) : (options.reduceRange ? 127 : 255);
  const scale = new Float32Array(channels);
  const zeroPoint = symmetric ? new Int8Array(channels) : new Uint8Array(channels);
  for (let k = 0; k < channels; k++) {
    // The range always holds 0.0, so that a zero weight (padding, pruned) stays exactly zero.
    const span = symmetric ? Math.max(Math.abs(min[k]!), Math.abs(max[k]!)) / qmax : (max[k]! - min[k]!) / qmax;
    scale[k] = span > 0 ? span : 1;
    zeroPoint[k] = symmetric ? 0 : clamp(Math.round(-min[k]! / scale[k]!), 0, qmax);
  }
  const data = symmetric ? new Int8Array(values.length) : new Uint8Array(values.length);
  const low = symmetric ? -qmax : 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = options.perChannel ? c : 0;
      // Divides by the float32 scale that is stored, so that dequantizing gives the nearest value.
      data[r * cols + c] = clamp(Math.round(values[r * cols + c]! / scale[k]!) + zeroPoint[k]!, low, qmax);
    }
  }
  return { data, scale, zeroPoint };
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}

/** The transpose of a row-major [rows, cols] matrix (Gemm's transB weights are stored [N, K]). */
export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  }
  return out;
}
