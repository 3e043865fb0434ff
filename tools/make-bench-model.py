#!/usr/bin/env python3
"""Generates a RoBERTa-base-sized sentiment model with random weights, laid out exactly as a Hugging Face
sequence-classification ONNX export, so that CPU and GPU throughput can be measured on realistic compute.

  model.onnx              inputs input_ids, attention_mask: int64 [batch, sequence] (dynamic axes)
                          output logits: float32 [batch, 3]
  tokenizer.json,         the real Twitter RoBERTa tokenizer (cardiffnlp/twitter-roberta-base-sentiment),
  tokenizer_config.json   copied from --tokenizer
  config.json             RobertaForSequenceClassification config, id2label negative/neutral/positive,
                          max_position_embeddings 514, pad_token_id 1

Shape (defaults = roberta-base): 12 layers, hidden 768, 12 heads, FFN 3072, vocab 50,265, 514 positions,
3 labels: about 125 M parameters, model.onnx about 500 MB (never commit it: bench/work/ is git-ignored).
--tiny makes a 2-layer, 64-wide model of the same contract for dry runs.

Weights come from numpy's generator with a fixed --seed, under Hugging Face's parameter names, so every
implementation below gets the same model on every machine:
  --impl transformers  transformers' RobertaForSequenceClassification (eager attention), when importable
  --impl builtin       the same network written here in plain torch (works with torch 1.13 and no
                       transformers); attention masked as Hugging Face masks it
  --impl auto          (default) transformers when importable, else builtin; falls back to builtin if the
                       transformers export fails
--verify runs both in torch on padded batches and reports the largest logit difference (needs transformers).
After the export, when the onnxruntime Python package is importable, the ONNX model is checked against torch
on a padded batch and row by row (padding must not change a text's logits).

Run here with Debian's Python (torch 1.13, onnx, numpy) or on the GPU machine (torch 2.x, transformers):
  /usr/bin/python3 tools/make-bench-model.py [--out bench/work/roberta-base-random] [--tokenizer DIR]
"""
import argparse
import inspect
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import onnx
import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "bench", "work", "roberta-base-random")
DEFAULT_TOKENIZER = os.path.join(REPO, "data", "hf-tokenizers", "twitter-roberta")
LABELS = ["negative", "neutral", "positive"]
PAD_ID, BOS_ID, EOS_ID = 1, 0, 2


def log(message):
    print(f"[make-bench-model] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Weights: Hugging Face RobertaForSequenceClassification parameter names, numpy generator with a fixed seed.
# ---------------------------------------------------------------------------------------------------------

def make_weights(dims, seed):
    """Initialised as Hugging Face initialises RoBERTa (normal 0.02, padding rows zero), except that biases
    and LayerNorm parameters get small noise and the output projection a wider spread, so logits vary by
    input with a realistic magnitude (a few units) and the fp16 parity check measures something."""
    rng = np.random.default_rng(seed)
    H, F, L, V, P = dims["hidden"], dims["ffn"], dims["layers"], dims["vocab"], dims["positions"]
    std = 0.02

    def normal(shape, scale=std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(np.float32)

    def layer_norm(prefix):
        return {f"{prefix}.weight": 1 + normal((H,)), f"{prefix}.bias": normal((H,))}

    w = {}
    w["roberta.embeddings.word_embeddings.weight"] = normal((V, H))
    w["roberta.embeddings.word_embeddings.weight"][PAD_ID] = 0
    w["roberta.embeddings.position_embeddings.weight"] = normal((P, H))
    w["roberta.embeddings.position_embeddings.weight"][PAD_ID] = 0
    w["roberta.embeddings.token_type_embeddings.weight"] = normal((1, H))
    w.update(layer_norm("roberta.embeddings.LayerNorm"))
    for i in range(L):
        p = f"roberta.encoder.layer.{i}"
        for name in ("query", "key", "value"):
            w[f"{p}.attention.self.{name}.weight"] = normal((H, H))
            w[f"{p}.attention.self.{name}.bias"] = normal((H,))
        w[f"{p}.attention.output.dense.weight"] = normal((H, H))
        w[f"{p}.attention.output.dense.bias"] = normal((H,))
        w.update(layer_norm(f"{p}.attention.output.LayerNorm"))
        w[f"{p}.intermediate.dense.weight"] = normal((F, H))
        w[f"{p}.intermediate.dense.bias"] = normal((F,))
        w[f"{p}.output.dense.weight"] = normal((H, F))
        w[f"{p}.output.dense.bias"] = normal((H,))
        w.update(layer_norm(f"{p}.output.LayerNorm"))
    w["classifier.dense.weight"] = normal((H, H))
    w["classifier.dense.bias"] = normal((H,))
    w["classifier.out_proj.weight"] = normal((len(LABELS), H), 0.3)
    w["classifier.out_proj.bias"] = normal((len(LABELS),), 0.1)
    return {name: torch.from_numpy(array) for name, array in w.items()}


# ---------------------------------------------------------------------------------------------------------
# The builtin implementation: RoBERTa for sequence classification in plain torch, module names as in
# transformers so that the same state dict loads into either.
# ---------------------------------------------------------------------------------------------------------

class _Embeddings(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.word_embeddings = nn.Embedding(d["vocab"], d["hidden"], padding_idx=PAD_ID)
        self.position_embeddings = nn.Embedding(d["positions"], d["hidden"], padding_idx=PAD_ID)
        self.token_type_embeddings = nn.Embedding(1, d["hidden"])
        self.LayerNorm = nn.LayerNorm(d["hidden"], eps=d["eps"])

    def forward(self, input_ids):
        # RoBERTa numbers positions from padding_idx + 1, skipping padding tokens (as transformers'
        # create_position_ids_from_input_ids does).
        not_pad = input_ids.ne(PAD_ID).int()
        positions = (torch.cumsum(not_pad, dim=1).type_as(not_pad) * not_pad).long() + PAD_ID
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.heads = d["heads"]
        self.head_size = d["hidden"] // d["heads"]
        self.query = nn.Linear(d["hidden"], d["hidden"])
        self.key = nn.Linear(d["hidden"], d["hidden"])
        self.value = nn.Linear(d["hidden"], d["hidden"])

    def _split(self, x):
        return x.view(x.size(0), x.size(1), self.heads, self.head_size).transpose(1, 2)

    def forward(self, x, additive_mask):
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_size) + additive_mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        return context.transpose(1, 2).reshape(x.size(0), x.size(1), self.heads * self.head_size)


class _DenseNorm(nn.Module):
    def __init__(self, d, width_in):
        super().__init__()
        self.dense = nn.Linear(width_in, d["hidden"])
        self.LayerNorm = nn.LayerNorm(d["hidden"], eps=d["eps"])

    def forward(self, h, residual):
        return self.LayerNorm(self.dense(h) + residual)


class _Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.self = _SelfAttention(d)
        self.output = _DenseNorm(d, d["hidden"])

    def forward(self, x, additive_mask):
        return self.output(self.self(x, additive_mask), x)


class _Intermediate(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.dense = nn.Linear(d["hidden"], d["ffn"])

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))  # exact (erf) GELU, as Hugging Face's "gelu"


class _Layer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.attention = _Attention(d)
        self.intermediate = _Intermediate(d)
        self.output = _DenseNorm(d, d["ffn"])

    def forward(self, x, additive_mask):
        attended = self.attention(x, additive_mask)
        return self.output(self.intermediate(attended), attended)


class _Encoder(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.layer = nn.ModuleList([_Layer(d) for _ in range(d["layers"])])


class _Roberta(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.embeddings = _Embeddings(d)
        self.encoder = _Encoder(d)


class _Head(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.dense = nn.Linear(d["hidden"], d["hidden"])
        self.out_proj = nn.Linear(d["hidden"], len(LABELS))

    def forward(self, x):
        return self.out_proj(torch.tanh(self.dense(x[:, 0, :])))  # the <s> token, as RobertaClassificationHead


class BuiltinRobertaClassifier(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.roberta = _Roberta(d)
        self.classifier = _Head(d)

    def forward(self, input_ids, attention_mask):
        x = self.roberta.embeddings(input_ids)
        # Masked keys get the most negative float added to their score: softmax gives them weight 0.
        keep = attention_mask[:, None, None, :].to(x.dtype)
        additive_mask = (1.0 - keep) * torch.finfo(x.dtype).min
        for layer in self.roberta.encoder.layer:
            x = layer(x, additive_mask)
        return self.classifier(x)


def build_builtin(dims, weights):
    model = BuiltinRobertaClassifier(dims)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"builtin model: missing {missing}, unexpected {unexpected}")
    return model.eval()


# ---------------------------------------------------------------------------------------------------------
# The transformers implementation.
# ---------------------------------------------------------------------------------------------------------

class _LogitsOnly(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def transformers_config(dims):
    from transformers import RobertaConfig
    return RobertaConfig(
        vocab_size=dims["vocab"], hidden_size=dims["hidden"], num_hidden_layers=dims["layers"],
        num_attention_heads=dims["heads"], intermediate_size=dims["ffn"], max_position_embeddings=dims["positions"],
        type_vocab_size=1, layer_norm_eps=dims["eps"], hidden_act="gelu", pad_token_id=PAD_ID, bos_token_id=BOS_ID,
        eos_token_id=EOS_ID, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)}, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, classifier_dropout=None,
    )


def build_transformers(dims, weights):
    import transformers
    from transformers import RobertaForSequenceClassification
    config = transformers_config(dims)
    try:
        model = RobertaForSequenceClassification._from_config(config, attn_implementation="eager")
    except TypeError:
        config._attn_implementation = "eager"
        model = RobertaForSequenceClassification(config)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    params = {name for name, _ in model.named_parameters()}
    missing_params = [name for name in missing if name in params]
    if missing_params or unexpected:
        raise RuntimeError(f"transformers model: missing {missing_params}, unexpected {unexpected}")
    log(f"transformers {transformers.__version__}: RobertaForSequenceClassification, attention "
        f"{getattr(model.config, '_attn_implementation', '?')}")
    return _LogitsOnly(model.eval())


def transformers_available():
    try:
        import transformers  # noqa: F401
        from transformers import RobertaForSequenceClassification  # noqa: F401
        return True
    except Exception:  # noqa: BLE001 - any import failure means: use the builtin implementation
        return False


# ---------------------------------------------------------------------------------------------------------
# Export and checks.
# ---------------------------------------------------------------------------------------------------------

def sample_batch(dims, seed, batch=3, length=16):
    """Ids as the tokenizer makes them (<s> … </s>, then padding) with different lengths, so masking is live."""
    rng = np.random.default_rng(seed + 1)
    ids = np.full((batch, length), PAD_ID, dtype=np.int64)
    mask = np.zeros((batch, length), dtype=np.int64)
    for row in range(batch):
        n = length - 5 * row
        ids[row, :n] = rng.integers(4, dims["vocab"] - 1, n)
        ids[row, 0], ids[row, n - 1] = BOS_ID, EOS_ID
        mask[row, :n] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def export(module, dims, seed, path, opset):
    ids, mask = sample_batch(dims, seed, batch=2)
    common = dict(
        input_names=["input_ids", "attention_mask"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                      "logits": {0: "batch"}},
    )
    params = inspect.signature(torch.onnx.export).parameters
    attempts = []
    if "dynamo" in params:
        attempts.append(("torchscript", dict(common, opset_version=opset, do_constant_folding=True, dynamo=False)))
        attempts.append(("dynamo", dict(common, opset_version=max(opset, 18), dynamo=True, external_data=False)))
    else:
        attempts.append(("torchscript", dict(common, opset_version=opset, do_constant_folding=True)))
    errors = []
    for name, kwargs in attempts:
        try:
            with torch.no_grad():
                torch.onnx.export(module, (ids, mask), path, **kwargs)
            return name
        except Exception as error:  # noqa: BLE001 - try the next exporter, report all if none works
            errors.append(f"{name}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
            log(f"export with the {name} exporter failed: {errors[-1]}")
    raise RuntimeError("no ONNX exporter worked: " + " | ".join(errors))


def normalise_contract(path):
    """Loads the export (external data too), names the dynamic axes batch/sequence, checks the HF export
    contract and saves it as one self-contained file."""
    model = onnx.load(path)
    graph = model.graph
    initializer_names = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializer_names]
    names = [i.name for i in inputs]
    if names != ["input_ids", "attention_mask"]:
        raise RuntimeError(f"export inputs are {names}, expected input_ids, attention_mask")
    for value in inputs:
        tensor_type = value.type.tensor_type
        if tensor_type.elem_type != onnx.TensorProto.INT64:
            raise RuntimeError(f"{value.name} is not int64")
        for dim, axis in zip(tensor_type.shape.dim, ("batch", "sequence")):
            dim.ClearField("dim_value")
            dim.dim_param = axis
    if [o.name for o in graph.output] != ["logits"]:
        raise RuntimeError(f"export outputs are {[o.name for o in graph.output]}, expected logits")
    out_type = graph.output[0].type.tensor_type
    if out_type.elem_type != onnx.TensorProto.FLOAT:
        raise RuntimeError("logits are not float32")
    out_dims = out_type.shape.dim
    if len(out_dims) == 2:
        out_dims[0].ClearField("dim_value")
        out_dims[0].dim_param = "batch"
        out_dims[1].dim_value = len(LABELS)
    model.producer_name = "tools/make-bench-model.py"
    for file in os.listdir(os.path.dirname(path)):
        if file.startswith(os.path.basename(path)) and file != os.path.basename(path):
            os.remove(os.path.join(os.path.dirname(path), file))  # external-data side files, now inlined
    onnx.save(model, path)
    onnx.checker.check_model(path)
    return model


def onnx_self_check(path, module, dims, seed):
    """With the onnxruntime Python package: the ONNX logits equal torch's, and padding changes nothing."""
    try:
        import onnxruntime
    except Exception:  # noqa: BLE001
        log("onnxruntime (Python) not importable: skipping the ONNX self-check (tools/compare-logits.ts "
            "--padding-check does it from Node)")
        return None
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    ids, mask = sample_batch(dims, seed)
    with torch.no_grad():
        expected = module(ids, mask).numpy()
    batched = session.run(["logits"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    torch_diff = float(np.abs(batched - expected).max())
    padding_diff = 0.0
    for row in range(ids.shape[0]):
        n = int(mask[row].sum())
        alone = session.run(["logits"], {"input_ids": ids[row:row + 1, :n].numpy(),
                                         "attention_mask": mask[row:row + 1, :n].numpy()})[0]
        padding_diff = max(padding_diff, float(np.abs(alone - batched[row:row + 1]).max()))
    log(f"ONNX self-check (onnxruntime {onnxruntime.__version__}, CPU): max |onnx - torch| {torch_diff:.2e}, "
        f"max |alone - padded batch| {padding_diff:.2e}")
    if torch_diff > 1e-3 or padding_diff > 1e-3:
        raise RuntimeError(f"ONNX self-check failed: torch diff {torch_diff}, padding diff {padding_diff}")
    return {"torch_max_abs_diff": torch_diff, "padding_max_abs_diff": padding_diff}


def verify_against_transformers(dims, weights, seed):
    builtin = build_builtin(dims, weights)
    reference = build_transformers(dims, weights)
    ids, mask = sample_batch(dims, seed)
    with torch.no_grad():
        diff = float((builtin(ids, mask) - reference(ids, mask)).abs().max())
    log(f"verify: max |builtin - transformers| logits on a padded batch: {diff:.2e}")
    if diff > 1e-4:
        raise RuntimeError(f"the builtin RoBERTa differs from transformers' by {diff}")
    return diff


def write_side_files(out, tokenizer_dir, dims, info):
    for file in ("tokenizer.json", "tokenizer_config.json"):
        source = os.path.join(tokenizer_dir, file)
        if not os.path.exists(source):
            if file == "tokenizer.json":
                raise SystemExit(f"no tokenizer.json in {tokenizer_dir}: pass --tokenizer DIR")
            continue
        shutil.copyfile(source, os.path.join(out, file))
    config = {
        "_name_or_path": "roberta-base-random-bench" if not info["tiny"] else "roberta-tiny-random-bench",
        "architectures": ["RobertaForSequenceClassification"],
        "model_type": "roberta",
        "vocab_size": dims["vocab"],
        "hidden_size": dims["hidden"],
        "num_hidden_layers": dims["layers"],
        "num_attention_heads": dims["heads"],
        "intermediate_size": dims["ffn"],
        "hidden_act": "gelu",
        "max_position_embeddings": dims["positions"],
        "type_vocab_size": 1,
        "layer_norm_eps": dims["eps"],
        "pad_token_id": PAD_ID,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "position_embedding_type": "absolute",
        "problem_type": "single_label_classification",
        "id2label": {str(i): label for i, label in enumerate(LABELS)},
        "label2id": {label: i for i, label in enumerate(LABELS)},
        "torch_dtype": "float32",
        "bench_model": info,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT, help="output directory (default %(default)s)")
    parser.add_argument("--tokenizer", default=DEFAULT_TOKENIZER, help="folder with the Twitter RoBERTa tokenizer.json")
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument("--impl", choices=["auto", "transformers", "builtin"], default="auto")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--tiny", action="store_true", help="2 layers, hidden 64, 2 heads, FFN 128 (dry runs)")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--ffn", type=int)
    parser.add_argument("--verify", action="store_true", help="compare builtin and transformers in torch")
    args = parser.parse_args()

    tokenizer_dir = os.path.abspath(args.tokenizer)
    tokenizer_file = os.path.join(tokenizer_dir, "tokenizer.json")
    if not os.path.exists(tokenizer_file):
        raise SystemExit(f"no tokenizer.json in {tokenizer_dir}: pass --tokenizer DIR (the Twitter RoBERTa tokenizer)")
    with open(tokenizer_file) as f:
        tokenizer = json.load(f)
    vocab = max(len(tokenizer["model"]["vocab"]), 1 + max([t["id"] for t in tokenizer.get("added_tokens", [])] or [0]))
    dims = dict(layers=12, hidden=768, heads=12, ffn=3072, vocab=vocab, positions=514, eps=1e-5)
    if args.tiny:
        dims.update(layers=2, hidden=64, heads=2, ffn=128)
    for key in ("layers", "hidden", "heads", "ffn"):
        if getattr(args, key) is not None:
            dims[key] = getattr(args, key)
    if dims["hidden"] % dims["heads"]:
        raise SystemExit("--hidden must be a multiple of --heads")

    torch.manual_seed(args.seed)
    started = time.time()
    weights = make_weights(dims, args.seed)
    parameters = sum(t.numel() for t in weights.values())
    log(f"weights: {parameters / 1e6:.1f} M parameters, seed {args.seed}, {dims} ({time.time() - started:.1f} s)")

    verify_diff = None
    if args.verify:
        try:
            verify_diff = verify_against_transformers(dims, weights, args.seed)
        except Exception as error:  # noqa: BLE001 - a check, never the reason a benchmark model is missing
            verify_diff = f"{type(error).__name__}: {error}"
            log(f"verify failed: {verify_diff}")
    impl = args.impl
    if impl == "auto":
        impl = "transformers" if transformers_available() else "builtin"
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.onnx")
    module = None
    exporter = None
    for candidate in ([impl, "builtin"] if impl == "transformers" and args.impl == "auto" else [impl]):
        try:
            module = build_transformers(dims, weights) if candidate == "transformers" else build_builtin(dims, weights)
            t0 = time.time()
            exporter = export(module, dims, args.seed, path, args.opset)
            log(f"exported with the {candidate} implementation, {exporter} exporter, torch {torch.__version__} "
                f"({time.time() - t0:.1f} s)")
            normalise_contract(path)
            self_check = onnx_self_check(path, module, dims, args.seed)
            impl = candidate
            break
        except Exception as error:  # noqa: BLE001 - auto falls back to builtin, explicit choices fail
            if candidate == "builtin" or args.impl != "auto":
                raise
            log(f"the transformers implementation failed ({type(error).__name__}: {error}); falling back to builtin")
    info = {
        "generator": "tools/make-bench-model.py", "seed": args.seed, "implementation": impl, "exporter": exporter,
        "torch": torch.__version__, "onnx": onnx.__version__, "opset": args.opset, "parameters": parameters,
        "tiny": bool(args.tiny), "verify_builtin_vs_transformers": verify_diff, "onnx_self_check": self_check,
    }
    write_side_files(args.out, tokenizer_dir, dims, info)
    size = os.path.getsize(path)
    log(f"wrote {args.out}: model.onnx {size / 1e6:.0f} MB, tokenizer.json, tokenizer_config.json, config.json "
        f"({time.time() - started:.0f} s in all)")
    print(json.dumps({"out": os.path.abspath(args.out), "model_bytes": size, **info}))


if __name__ == "__main__":
    main()
