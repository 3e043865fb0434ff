#!/usr/bin/env python3
"""Converts an fp32 sequence-classification ONNX export to model_fp16.onnx in the same directory: float16
weights and float16 compute, with the service contract unchanged (int64 input_ids / attention_mask in, float32
logits out: a Cast is inserted at the boundary). Then reports the largest absolute logit difference against
the fp32 model on N real texts, through tools/compare-logits.ts (the service's own tokenizer and ONNX Runtime).

  /usr/bin/python3 tools/convert-fp16.py bench/work/roberta-base-random [--compare 200] [--device cpu]

Written with onnx's Python API alone (onnxconverter-common is not packaged for Debian 12; this does the same
thing for transformer exports):
  - float32 initializers and Constant / ConstantOfShape values become float16, clipped to ±65504 (so a
    mask constant like torch.finfo(float32).min becomes -65504, which still zeroes a softmax weight);
  - Cast nodes to float32 become Casts to float16 (e.g. the attention-mask cast);
  - float graph inputs get a Cast to float16, float graph outputs a Cast back to float32;
  - --keep-fp32 OP,OP keeps those op types in float32 between Casts (e.g. LayerNormalization,Softmax), for
    providers or models that need it; by default everything runs in float16 and the parity check measures it;
  - intermediate value_info is dropped (ONNX Runtime infers it again) and the result is type-checked with
    onnx's strict shape inference.
ONNX Runtime's CPU provider has float16 kernels for few ops and runs the rest through inserted Casts: the
fp16 model works on CPU (slowly) for this parity check; it is meant for DEVICE=webgpu / cuda.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TEXTS = os.path.join(REPO, "data", "tweeteval-sentiment", "validation.jsonl")
FP16_FILE = "model_fp16.onnx"
FP16_MAX = float(np.finfo(np.float16).max)
FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16


def log(message):
    print(f"[convert-fp16] {message}", file=sys.stderr, flush=True)


class Stats:
    def __init__(self):
        self.initializers = 0
        self.constants = 0
        self.casts = 0
        self.clipped = 0
        self.flushed = 0
        self.kept_fp32 = 0


def to_fp16_array(array, stats):
    array = np.asarray(array, dtype=np.float32)
    finite = np.isfinite(array)
    stats.clipped += int(np.count_nonzero(finite & (np.abs(array) > FP16_MAX)))
    clipped = np.clip(array, -FP16_MAX, FP16_MAX)
    converted = clipped.astype(np.float16)
    stats.flushed += int(np.count_nonzero((converted == 0) & (array != 0)))
    return converted


def tensor_to_fp16(tensor, stats):
    """A float32 TensorProto as float16 (same name); other types unchanged."""
    if tensor.data_type != FLOAT:
        return tensor
    converted = numpy_helper.from_array(to_fp16_array(numpy_helper.to_array(tensor), stats), tensor.name)
    return converted


def float_names(model):
    """Names of every float32 tensor of the fp32 model (inputs, initializers, inferred intermediates)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception as error:  # noqa: BLE001 - without inference, fall back to what the graph declares
        log(f"shape inference failed on the fp32 model ({error}); using declared types only")
        inferred = model
    names = set()
    graph = inferred.graph
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.type.tensor_type.elem_type == FLOAT:
            names.add(value.name)
    for init in graph.initializer:
        if init.data_type == FLOAT:
            names.add(init.name)
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name in ("value_float", "value_floats") or (attr.name == "value" and attr.t.data_type == FLOAT):
                    names.update(node.output)
    return names


def convert_node_attributes(node, stats):
    if node.op_type == "Constant":
        for attr in list(node.attribute):
            if attr.name == "value" and attr.t.data_type == FLOAT:
                attr.t.CopyFrom(tensor_to_fp16(attr.t, stats))
                stats.constants += 1
            elif attr.name in ("value_float", "value_floats"):
                values = [attr.f] if attr.name == "value_float" else list(attr.floats)
                array = to_fp16_array(np.array(values, dtype=np.float32), stats)
                if attr.name == "value_float":
                    array = array.reshape(())
                node.attribute.remove(attr)
                node.attribute.append(helper.make_attribute("value", numpy_helper.from_array(array)))
                stats.constants += 1
    elif node.op_type == "ConstantOfShape":
        value = next((a for a in node.attribute if a.name == "value"), None)
        if value is None:  # the default value is a float32 zero
            node.attribute.append(helper.make_attribute("value", numpy_helper.from_array(np.zeros(1, np.float16))))
            stats.constants += 1
        elif value.t.data_type == FLOAT:
            value.t.CopyFrom(tensor_to_fp16(value.t, stats))
            stats.constants += 1
    elif node.op_type == "Cast":
        for attr in node.attribute:
            if attr.name == "to" and attr.i == FLOAT:
                attr.i = FLOAT16
                stats.casts += 1
    elif node.op_type in ("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "EyeLike"):
        for attr in node.attribute:
            if attr.name == "dtype" and attr.i == FLOAT:
                attr.i = FLOAT16
    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.GRAPH:
            convert_graph(attr.g, stats, set(), set(), top_level=False)
        elif attr.type == onnx.AttributeProto.GRAPHS:
            for graph in attr.graphs:
                convert_graph(graph, stats, set(), set(), top_level=False)


def convert_graph(graph, stats, keep_fp32_ops, floats, top_level=True):
    for init in graph.initializer:
        if init.data_type == FLOAT:
            init.CopyFrom(tensor_to_fp16(init, stats))
            stats.initializers += 1
    initializer_names = {init.name for init in graph.initializer}
    for node in graph.node:
        convert_node_attributes(node, stats)
    for value in graph.input:
        if value.name in initializer_names and value.type.tensor_type.elem_type == FLOAT:
            value.type.tensor_type.elem_type = FLOAT16
    del graph.value_info[:]
    if not top_level:
        for value in list(graph.input) + list(graph.output):
            if value.type.tensor_type.elem_type == FLOAT:
                value.type.tensor_type.elem_type = FLOAT16
        return

    new_nodes = []
    # Float graph inputs: keep their float32 type, cast to float16 for the graph.
    for value in graph.input:
        if value.name in initializer_names or value.type.tensor_type.elem_type != FLOAT:
            continue
        inner = f"{value.name}__fp16"
        rename_inputs(graph, value.name, inner)
        new_nodes.append(helper.make_node("Cast", [value.name], [inner], to=FLOAT16, name=f"{value.name}__to_fp16"))
    # Ops kept in float32: Cast their float inputs up and their outputs back down.
    body = []
    for node in graph.node:
        if node.op_type not in keep_fp32_ops:
            body.append(node)
            continue
        stats.kept_fp32 += 1
        for i, name in enumerate(node.input):
            if name and name in floats:
                up = f"{name}__fp32_for_{node.name or id(node)}"
                body.append(helper.make_node("Cast", [name], [up], to=FLOAT, name=f"{up}__cast"))
                node.input[i] = up
        casts_down = []
        for i, name in enumerate(node.output):
            if name and name in floats:
                wide = f"{name}__fp32"
                node.output[i] = wide
                casts_down.append(helper.make_node("Cast", [wide], [name], to=FLOAT16, name=f"{name}__cast"))
        body.append(node)
        body.extend(casts_down)
    # Float graph outputs: computed in float16, cast to float32 at the boundary.
    tail = []
    for value in graph.output:
        if value.type.tensor_type.elem_type != FLOAT:
            continue
        inner = f"{value.name}__fp16"
        for node in body:
            for i, name in enumerate(node.output):
                if name == value.name:
                    node.output[i] = inner
            for i, name in enumerate(node.input):
                if name == value.name:
                    node.input[i] = inner
        tail.append(helper.make_node("Cast", [inner], [value.name], to=FLOAT, name=f"{value.name}__to_fp32"))
    del graph.node[:]
    graph.node.extend(new_nodes + body + tail)


def rename_inputs(graph, old, new):
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new


def convert(source, target, keep_fp32_ops):
    started = time.time()
    model = onnx.load(source)
    floats = float_names(model) if keep_fp32_ops else set()
    stats = Stats()
    convert_graph(model.graph, stats, set(keep_fp32_ops), floats)
    for function in model.functions:
        for node in function.node:
            convert_node_attributes(node, stats)
    model.producer_name = "tools/convert-fp16.py"
    onnx.checker.check_model(model)
    try:
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)  # raises on a type mismatch
    except Exception as error:  # noqa: BLE001 - some exporters' graphs defeat onnx's inference; ORT decides
        log(f"warning: strict type inference failed ({str(error).splitlines()[0][:300]}); "
            "ONNX Runtime checks the types again when it loads the model")
    onnx.save(model, target)
    log(f"wrote {target}: {os.path.getsize(target) / 1e6:.0f} MB (fp32 {os.path.getsize(source) / 1e6:.0f} MB); "
        f"{stats.initializers} initializers, {stats.constants} constants, {stats.casts} casts to float16; "
        f"{stats.clipped} values clipped to ±65504, {stats.flushed} tiny values flushed to 0; "
        f"{stats.kept_fp32} nodes kept in float32 ({time.time() - started:.1f} s)")
    return stats


def compare_command(args, fp32, fp16):
    """The parity tool: $COMPARE_LOGITS (a command prefix, e.g. 'node rt/js/compare-logits.mjs'), else
    tools/compare-logits.ts through the repository's tsx."""
    prefix = os.environ.get("COMPARE_LOGITS")
    if prefix:
        command = shlex.split(prefix)
    else:
        tsx = os.path.join(REPO, "node_modules", ".bin", "tsx")
        if not os.path.exists(tsx) or shutil.which("node") is None:
            return None
        command = [tsx, os.path.join(REPO, "tools", "compare-logits.ts")]
    command += ["--a", fp32, "--b", fp16, "--n", str(args.compare), "--device", args.device, "--json"]
    if args.texts:
        command += ["--texts", args.texts]
    return command


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="model directory (its model.onnx) or an fp32 .onnx file")
    parser.add_argument("--out", help=f"output file (default: {FP16_FILE} beside the input)")
    parser.add_argument("--keep-fp32", default="", help="op types kept in float32, comma-separated")
    parser.add_argument("--compare", type=int, default=200, help="texts for the parity check (0: skip)")
    parser.add_argument("--texts", default=DEFAULT_TEXTS if os.path.exists(DEFAULT_TEXTS) else None,
                        help="JSONL file of {\"text\": ...} lines for the parity check")
    parser.add_argument("--device", default="cpu", help="ONNX Runtime provider for the parity check (cpu, webgpu, cuda)")
    args = parser.parse_args()

    source = os.path.join(args.model, "model.onnx") if os.path.isdir(args.model) else args.model
    if not os.path.exists(source):
        raise SystemExit(f"{source} not found")
    target = args.out or os.path.join(os.path.dirname(os.path.abspath(source)), FP16_FILE)
    keep = [op.strip() for op in args.keep_fp32.split(",") if op.strip()]
    stats = convert(source, target, keep)
    result = {"fp32": os.path.abspath(source), "fp16": os.path.abspath(target), "fp16_bytes": os.path.getsize(target),
              "initializers": stats.initializers, "clipped": stats.clipped, "flushed": stats.flushed,
              "kept_fp32_ops": keep, "parity": None}
    if args.compare > 0:
        command = compare_command(args, os.path.abspath(source), os.path.abspath(target))
        if command is None:
            log("no parity tool found (node + tsx, or $COMPARE_LOGITS): run "
                f"npx tsx tools/compare-logits.ts --a {source} --b {target}")
        else:
            log("parity check: " + " ".join(shlex.quote(part) for part in command))
            completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
            if completed.returncode != 0:
                raise SystemExit(f"parity check failed (exit {completed.returncode})")
            parity = json.loads(completed.stdout.strip().splitlines()[-1])
            result["parity"] = parity
            log(f"max |fp16 - fp32| logit difference on {parity['texts']} texts: {parity['maxAbsDiff']:.4g} "
                f"(mean {parity['meanAbsDiff']:.3g}; top label agrees on {parity['labelAgreement'] * 100:.1f}%)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
