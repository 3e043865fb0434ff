// Dynamic int8 quantization of an ONNX graph, written as ONNX Runtime's quantize_dynamic writes it so that
// ONNX Runtime's graph optimizer turns it into its fast int8 kernels:
//
//   x ─► DynamicQuantizeLinear ─► x_q (u8), x_scale, x_zero_point        (once per activation tensor)
//   MatMulInteger(x_q, W_q, x_zero_point, W_zero_point) ─► Cast(float) ─► Mul(·, Mul(x_scale, W_scale)) [─► Add(·, bias)]
//
// ONNX Runtime (graph optimization level 2 and above) fuses MatMulInteger + Cast + the two Muls (+ an Add of a
// constant bias given as the Add's second input) into MatMulIntegerToFloat, and that with a
// DynamicQuantizeLinear used by it alone into DynamicQuantizeMatMul. These are only standard ONNX ops: any
// ONNX runtime can run the file. The weights (constant B of MatMul, and of Gemm with alpha = beta = 1 and no
// transA) are quantized here once; the activations at run time, per call, from their own range.
import { AttributeType, DataType, defaultOpset, dimsOf, floatAttribute, floatValues, intAttribute, tensor,
  type ModelProto, type NodeProto, type TensorProto } from './onnx-model.js';
import { quantizeWeight, transpose, type WeightQuantization } from './weights.js';

export interface QuantizeSummary {
  /** MatMul and Gemm nodes whose weights are now int8. */
  quantized: number;
  /** Bytes of float32 weights replaced, and of the 8-bit weights that replace them. */
  floatBytes: number;
  int8Bytes: number;
}

/** DynamicQuantizeLinear came with opset 11. */
const MIN_OPSET = 11;

/** Rewrites `model` in place. */
export function quantizeModel(model: ModelProto, options: WeightQuantization): QuantizeSummary {
  const graph = model.graph;
  if (graph === undefined) throw new Error('the model has no graph');
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET) throw new Error(`the model imports ONNX opset ${opset}; dynamic quantization needs opset ${MIN_OPSET} or later (re-export it with a newer opset)`);

  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const names = new Names(graph.node ?? [], initializers.keys());
  const uses = new Map<string, number>();
  for (const node of graph.node ?? []) for (const input of node.input ?? []) uses.set(input, (uses.get(input) ?? 0) + 1);
  for (const output of graph.output ?? []) uses.set(output.name ?? '', (uses.get(output.name ?? '') ?? 0) + 1);

  const added: TensorProto[] = [];
  const quantizedActivations = new Map<string, { q: string; scale: string; zeroPoint: string }>();
  const quantizedWeights = new Map<string, { q: string; scale: string; zeroPoint: string; columns: number }>();
  const summary: QuantizeSummary = { quantized: 0, floatBytes: 0, int8Bytes: 0 };
  const nodes: NodeProto[] = [];
  const quantizedOutputs = new Set<string>();
  const int8Type = options.type === 's8' ? DataType.INT8 : DataType.UINT8;

  for (const node of graph.node ?? []) {
    const weight = quantizableWeight(node, initializers);
    if (weight === undefined) {
      nodes.push(node);
      continue;
    }
    const [activation, weightName] = [node.input![0]!, node.input![1]!];
    const base = names.fresh(node.name || node.output![0]!);

    let x = quantizedActivations.get(activation);
    if (x === undefined) {
      const stem = names.fresh(activation);
      x = { q: `${stem}_quantized`, scale: `${stem}_scale`, zeroPoint: `${stem}_zero_point` };
      nodes.push(makeNode('DynamicQuantizeLinear', `${stem}_DynamicQuantizeLinear`, [activation], [x.q, x.scale, x.zeroPoint]));
      quantizedActivations.set(activation, x);
    }

    const key = `${weightName}\u0000${weight.transposed}`;
    let w = quantizedWeights.get(key);
    if (w === undefined) {
      const [rows, cols] = weight.transposed ? [weight.dims[1]!, weight.dims[0]!] : [weight.dims[0]!, weight.dims[1]!];
      const values = floatValues(weight.tensor);
      const q = quantizeWeight(weight.transposed ? transpose(values, cols, rows) : values, rows, cols, options);
      const stem = names.fresh(weightName);
      const perColumn = q.scale.length > 1 ? [cols] : [];
      w = { q: `${stem}_quantized`, scale: `${stem}_scale`, zeroPoint: `${stem}_zero_point`, columns: cols };
      added.push(
        tensor(w.q, int8Type, [rows, cols], q.data),
        tensor(w.scale, DataType.FLOAT, perColumn, q.scale),
        tensor(w.zeroPoint, int8Type, perColumn, q.zeroPoint),
      );
      quantizedWeights.set(key, w);
      summary.floatBytes += values.length * 4;
      summary.int8Bytes += q.data.length;
    }
    uses.set(weightName, uses.get(weightName)! - 1);

    const output = node.output![0]!;
    const bias = node.op_type === 'Gemm' ? node.input![2] : undefined;
    const scaled = bias ? `${base}_scaled` : output;
    nodes.push(
      makeNode('MatMulInteger', `${base}_MatMulInteger`, [x.q, w.q, x.zeroPoint, w.zeroPoint], [`${base}_int32`]),
      makeNode('Cast', `${base}_Cast`, [`${base}_int32`], [`${base}_float`], [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }]),
      makeNode('Mul', `${base}_scales_Mul`, [x.scale, w.scale], [`${base}_scales`]),
      makeNode('Mul', `${base}_output_Mul`, [`${base}_float`, `${base}_scales`], [scaled]),
    );
    if (bias) nodes.push(makeNode('Add', `${base}_bias_Add`, [scaled, bias], [output]));
    quantizedOutputs.add(scaled);
    summary.quantized++;
  }

  putConstantBiasSecond(nodes, initializers, quantizedOutputs);
  const unused = new Set([...initializers.keys()].filter((name) => uses.get(name) === 0));
  graph.node = nodes;
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !unused.has(t.name ?? '')), ...added];
  // Models of IR version < 4 also list their initializers as graph inputs.
  graph.input = (graph.input ?? []).filter((input) => !unused.has(input.name ?? ''));
  return summary;
}

interface Weight {
  tensor: TensorProto;
  dims: number[];
  /** Gemm with transB = 1 stores its weight [N, K]. */
  transposed: boolean;
}

/** The constant float weight of a MatMul or Gemm this quantizer can rewrite, or undefined. */
function quantizableWeight(node: NodeProto, initializers: Map<string, TensorProto>): Weight | undefined {
  const [a, b] = node.input ?? [];
  if (a === undefined || b === undefined || initializers.has(a) || (node.domain ?? '') !== '') return undefined;
  const weight = initializers.get(b);
  if (weight === undefined || weight.data_type !== DataType.FLOAT) return undefined;
  const dims = dimsOf(weight);
  if (dims.length !== 2) return undefined;
  if (node.op_type === 'MatMul') return { tensor: weight, dims, transposed: false };
  if (node.op_type === 'Gemm') {
    const plain = intAttribute(node, 'transA', 0) === 0 && floatAttribute(node, 'alpha', 1) === 1 && floatAttribute(node, 'beta', 1) === 1;
    return plain ? { tensor: weight, dims, transposed: intAttribute(node, 'transB', 0) === 1 } : undefined;
  }
  return undefined;
}

/**
 * Exporters write a Linear layer's bias as Add(bias, x W); ONNX Runtime folds the bias into
 * MatMulIntegerToFloat only when it is the Add's second input. Add commutes: the inputs are swapped.
 */
function putConstantBiasSecond(nodes: NodeProto[], initializers: Map<string, TensorProto>, quantizedOutputs: Set<string>): void {
  for (const node of nodes) {
    const [first, second] = node.input ?? [];
    if (node.op_type !== 'Add' || first === undefined || second === undefined) continue;
    const bias = initializers.get(first);
    if (bias !== undefined && dimsOf(bias).length === 1 && quantizedOutputs.has(second)) {
      node.input = [second, first];
    }
  }
}

function makeNode(opType: string, name: string, input: string[], output: string[], attribute: NodeProto['attribute'] = []): NodeProto {
  return { op_type: opType, name, input, output, attribute };
}

/** What the names made here append to a stem. */
const SUFFIXES = ['_quantized', '_scale', '_zero_point', '_DynamicQuantizeLinear', '_MatMulInteger', '_int32', '_Cast', '_float',
  '_scales_Mul', '_scales', '_output_Mul', '_scaled', '_bias_Add'];

/** Stems for new tensor and node names that clash with no name of the graph: a number is added where one would. */
class Names {
  private readonly taken = new Set<string>();

  constructor(nodes: NodeProto[], initializerNames: Iterable<string>) {
    for (const node of nodes) {
      for (const name of [...(node.input ?? []), ...(node.output ?? []), node.name ?? '']) this.taken.add(name);
    }
    for (const name of initializerNames) this.taken.add(name);
  }

  fresh(stem: string): string {
    let name = stem;
    for (let i = 1; SUFFIXES.some((suffix) => this.taken.has(name + suffix)); i++) name = `${stem}_${i}`;
    for (const suffix of SUFFIXES) this.taken.add(name + suffix);
    return name;
  }
}
