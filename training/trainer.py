"""Data loading, training loop, skip-gram pretraining and metrics shared by train.py and experiments."""
from __future__ import annotations

import json
import math
import os
import random
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from training.model import NUM_LABELS

LABELS = ["negative", "neutral", "positive"]


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_ids(work_dir: str, split: str) -> dict:
    with open(os.path.join(work_dir, f"ids-{split}.json"), encoding="utf-8") as f:
        return json.load(f)


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int, multiple: int = 1):
    longest = max(len(s) for s in seqs)
    if multiple > 1:
        longest = -(-longest // multiple) * multiple
    ids = torch.full((len(seqs), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), longest), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, :len(s)] = 1
    return ids, mask


def batches(indices: List[int], seqs, batch_size: int, rng: Optional[random.Random], bucket: bool = True):
    """Shuffled batches; with `bucket`, texts of similar length share a batch (less padding)."""
    idx = list(indices)
    if rng is not None:
        rng.shuffle(idx)
    if bucket:
        chunk = batch_size * 50
        groups = []
        for start in range(0, len(idx), chunk):
            part = sorted(idx[start:start + chunk], key=lambda i: len(seqs[i]))
            groups.extend(part[k:k + batch_size] for k in range(0, len(part), batch_size))
        if rng is not None:
            rng.shuffle(groups)
        return groups
    return [idx[k:k + batch_size] for k in range(0, len(idx), batch_size)]


def class_weights(labels: Sequence[int]) -> torch.Tensor:
    counts = np.bincount(np.asarray(labels), minlength=NUM_LABELS).astype(np.float64)
    return torch.tensor(counts.sum() / (NUM_LABELS * counts), dtype=torch.float32)


@torch.no_grad()
def predict_logits(model: nn.Module, seqs, pad_id: int, batch_size: int = 256) -> torch.Tensor:
    model.eval()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = torch.zeros((len(seqs), NUM_LABELS))
    for k in range(0, len(order), batch_size):
        chunk = order[k:k + batch_size]
        ids, mask = pad_batch([seqs[i] for i in chunk], pad_id)
        out[chunk] = model(ids, mask).float()
    return out


def metrics(labels: Sequence[int], preds: Sequence[int]) -> dict:
    labels = np.asarray(labels)
    preds = np.asarray(preds)
    cm = np.zeros((NUM_LABELS, NUM_LABELS), dtype=np.int64)
    for y, p in zip(labels, preds):
        cm[y, p] += 1
    per_class = {}
    recalls = []
    f1s = []
    for c, name in enumerate(LABELS):
        tp = cm[c, c]
        precision = tp / cm[:, c].sum() if cm[:, c].sum() else 0.0
        recall = tp / cm[c, :].sum() if cm[c, :].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": float(precision), "recall": float(recall), "f1": float(f1),
                           "support": int(cm[c, :].sum())}
        recalls.append(recall)
        f1s.append(f1)
    return {
        "macro_recall": float(np.mean(recalls)),
        "accuracy": float((labels == preds).mean()),
        "macro_f1": float(np.mean(f1s)),
        "f1_pn": float((per_class["negative"]["f1"] + per_class["positive"]["f1"]) / 2),
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
    }


def fit(module: nn.Module, spec: dict, pad_id: int, seqs, labels, train_idx: List[int],
        eval_sets: Dict[str, tuple], seed: int, name: str, log=print):
    """Mini-batch training of `module` (ids, mask -> logits) on its parameters that require grad.
    spec: epochs, lr, batch_size, label_smoothing, word_dropout, balanced, lr_decay, warmup, clip."""
    set_seed(seed)
    epochs = spec.get("epochs", 5)
    lr = spec.get("lr", 1e-3)
    batch_size = spec.get("batch_size", 64)
    weight = class_weights([labels[i] for i in train_idx]) if spec.get("balanced", True) else None
    smoothing = spec.get("label_smoothing", 0.0)
    word_dropout = spec.get("word_dropout", 0.0)
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=spec.get("weight_decay", 0.0))
    rng = random.Random(seed)
    steps_per_epoch = math.ceil(len(train_idx) / batch_size)
    total_steps = epochs * steps_per_epoch
    warmup = spec.get("warmup", 0)
    schedule = spec.get("lr_decay", "linear")

    def lr_at(step: int) -> float:
        if warmup and step < warmup:
            return lr * (step + 1) / warmup
        if schedule == "linear":
            return lr * max(0.0, 1.0 - (step - warmup) / max(1, total_steps - warmup)) + lr * 0.02
        return lr

    history = []
    step = 0
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        module.train()
        t0 = time.time()
        total = 0.0
        for batch in batches(train_idx, seqs, batch_size, rng):
            ids, mask = pad_batch([seqs[i] for i in batch], pad_id)
            y = torch.tensor([labels[i] for i in batch], dtype=torch.long)
            if word_dropout > 0:
                # Replace random real tokens (not [CLS]/[SEP]) by [UNK]=1: robustness to unseen words.
                drop = (torch.rand(ids.shape, generator=gen) < word_dropout) & (mask == 1)
                drop[:, 0] = False
                drop[torch.arange(len(batch)), mask.sum(dim=1) - 1] = False
                ids = ids.masked_fill(drop, 1)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            loss = F.cross_entropy(module(ids, mask), y, weight=weight, label_smoothing=smoothing)
            opt.zero_grad()
            loss.backward()
            if spec.get("clip"):
                nn.utils.clip_grad_norm_(params, spec["clip"])
            opt.step()
            total += loss.item() * len(batch)
            step += 1
        entry = {"epoch": epoch + 1, "loss": total / len(train_idx), "seconds": time.time() - t0}
        entry.update(evaluate(module, eval_sets, pad_id))
        history.append(entry)
        log(f"  [{name}] " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()))
    module.eval()
    return history


def evaluate(module: nn.Module, eval_sets: Dict[str, tuple], pad_id: int) -> dict:
    out = {}
    for name, (eval_seqs, eval_labels) in eval_sets.items():
        m = metrics(eval_labels, predict_logits(module, eval_seqs, pad_id).argmax(dim=1).tolist())
        out[name] = round(m["macro_recall"], 4)
        out[name + "_acc"] = round(m["accuracy"], 4)
    return out


def token_char_grams(vocab: Dict[str, int], shortest: int, longest: int, special: int = 5) -> List[np.ndarray]:
    """For each token id, the ids of the character n-grams (shortest..longest characters) of its
    string; a word-initial token is prefixed with `<` (`love` -> `<love`), a continuation drops its
    `##` (`##ing` -> `ing`), so `<lo` marks a word start. Special tokens (ids < `special`) have none."""
    gram_ids: Dict[str, int] = {}
    grams: List[np.ndarray] = [np.zeros(0, dtype=np.int64)] * (max(vocab.values()) + 1)
    for token, i in sorted(vocab.items(), key=lambda item: item[1]):
        if i < special:
            continue
        text = token[2:] if token.startswith("##") else "<" + token
        ids = [gram_ids.setdefault(text[a:a + n], len(gram_ids))
               for n in range(shortest, longest + 1) for a in range(len(text) - n + 1)]
        grams[i] = np.asarray(ids, dtype=np.int64)
    return grams


def char_gram_features(seqs: Sequence[Sequence[int]], grams: List[np.ndarray], n_grams: int):
    """Sparse [texts, n_grams] counts of the character n-grams of each text's tokens."""
    rows, cols = [], []
    for r, s in enumerate(seqs):
        g = np.concatenate([grams[t] for t in s])
        rows.append(np.full(len(g), r))
        cols.append(g)
    index = torch.tensor(np.stack([np.concatenate(rows), np.concatenate(cols)]))
    return torch.sparse_coo_tensor(index, torch.ones(index.shape[1]), (len(seqs), n_grams)).coalesce()


def fit_ngram_lbfgs(model, index: int, pad_id: int, seqs, labels, train_idx: List[int],
                    eval_sets: Dict[str, tuple], c: float = 1.0, max_iter: int = 300, name: str = "ngram",
                    vocab: Optional[Dict[str, int]] = None, log=print):
    """Fits member `index` (an NgramLinear) of `model` by full-batch L-BFGS on class-balanced
    cross-entropy + ||w||^2 / (2 C N): the objective of scikit-learn's LogisticRegression(C,
    class_weight="balanced"). The features are built once as a sparse matrix exactly as the
    module computes them (unigram and hashed-bigram counts / sqrt(their number), lexicon summaries,
    and with `chars` the tokens' character n-grams, tf-idf weighted and divided by the square root of the
    sum of their squared idf (about their L2 norm, exactly so when no n-gram repeats); `vocab`, the
    tokenizer's, gives the token strings). Character n-grams seen in fewer than two training texts
    get no weight. After fitting, the n-gram weights are folded into the member's per-token rows."""
    from training.model import MemberView, P1, lexicon_summaries

    t0 = time.time()
    ngram = model.members[index]
    vocab_size = ngram.unigram.weight.shape[0]
    buckets = ngram.buckets
    rows, cols, vals = [], [], []
    for r, i in enumerate(train_idx):
        s = np.asarray(seqs[i], dtype=np.int64)
        feats = np.concatenate([s, vocab_size + np.remainder(s[:-1] * P1 + s[1:], buckets)])
        rows.append(np.full(len(feats), r))
        cols.append(feats)
        vals.append(np.full(len(feats), 1.0 / np.sqrt(len(feats)), dtype=np.float32))
    index_tensor = torch.tensor(np.stack([np.concatenate(rows), np.concatenate(cols)]))
    x = torch.sparse_coo_tensor(index_tensor, torch.tensor(np.concatenate(vals)),
                                (len(train_idx), vocab_size + buckets)).coalesce()
    char_fold = None
    if ngram.chars:
        grams = token_char_grams(vocab, *ngram.chars)
        n_grams = 1 + max(int(g.max()) for g in grams if len(g))
        counts = char_gram_features([seqs[i] for i in train_idx], grams, n_grams)
        df = torch.bincount(counts.indices()[1], minlength=n_grams).double()
        kept = df >= 2
        idf = torch.where(kept, torch.log((1.0 + len(train_idx)) / (1.0 + df)) + 1.0, torch.zeros_like(df)).float()
        # per token: the sum of its kept n-grams' squared idf (for the normaliser) and the token x n-gram
        # matrix times idf (the fold)
        token_index = torch.tensor(np.stack([np.concatenate([np.full(len(g), t) for t, g in enumerate(grams)]),
                                             np.concatenate(grams)]))
        token_grams = torch.sparse_coo_tensor(token_index, idf[token_index[1]], (vocab_size, n_grams)).coalesce()
        char_norms = torch.zeros(vocab_size).index_add_(0, token_index[0], idf[token_index[1]] ** 2)
        per_text = counts.indices()
        norms = torch.zeros(len(train_idx)).index_add_(0, per_text[0], counts.values() * idf[per_text[1]] ** 2)
        values = counts.values() * idf[per_text[1]] / norms.clamp(min=1.0).sqrt()[per_text[0]]
        char_x = torch.sparse_coo_tensor(per_text, values, counts.shape)
        x = torch.cat([x, char_x], dim=1).coalesce()
        char_fold = (token_grams, char_norms)
        log(f"  [{name}] {int(kept.sum())} character n-grams of {ngram.chars[0]}-{ngram.chars[1]} characters "
            f"(of {n_grams}) in two or more training texts")
    ids, mask = pad_batch([seqs[i] for i in train_idx], pad_id)
    with torch.no_grad():
        summaries = lexicon_summaries(F.embedding(ids, model.lexicon), mask.float()) if ngram.lexical is not None \
            else torch.zeros(len(train_idx), 0)
    y = torch.tensor([labels[i] for i in train_idx], dtype=torch.long)
    weight = class_weights(y.tolist())
    l2 = 1.0 / (c * len(train_idx))
    w = torch.zeros(x.shape[1], NUM_LABELS, requires_grad=True)
    wl = torch.zeros(NUM_LABELS, summaries.shape[1], requires_grad=True)
    bias = torch.zeros(NUM_LABELS, requires_grad=True)
    opt = torch.optim.LBFGS([w, wl, bias], lr=1.0, max_iter=max_iter, history_size=20, tolerance_grad=1e-7,
                            tolerance_change=1e-10, line_search_fn="strong_wolfe")

    def objective():
        logits = torch.sparse.mm(x, w) + summaries @ wl.t() + bias
        return F.cross_entropy(logits, y, weight=weight) + 0.5 * l2 * ((w * w).sum() + (wl * wl).sum())

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        final = float(objective())
        ngram.unigram.weight.copy_(w[:vocab_size])
        ngram.bigram.weight.copy_(w[vocab_size:vocab_size + buckets])
        if char_fold is not None:
            token_grams, char_norms = char_fold
            ngram.chargram.weight.copy_(torch.sparse.mm(token_grams, w[vocab_size + buckets:]))
            ngram.char_norms.copy_(char_norms.unsqueeze(1))
        ngram.bias.copy_(bias)
        if ngram.lexical is not None:
            ngram.lexical.weight.copy_(wl)
            ngram.lexical.bias.zero_()
    entry = {"objective": final, "seconds": time.time() - t0, "iterations": opt.state[w]["n_iter"]}
    entry.update(evaluate(MemberView(model, index), eval_sets, pad_id))
    log(f"  [{name}] " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()))
    return [entry]


def skipgram_embeddings(seqs, vocab_size: int, dim: int, seed: int, epochs: int = 3, window: int = 5,
                        negatives: int = 5, batch_size: int = 4096, lr: float = 0.01, special: int = 5,
                        log=print) -> torch.Tensor:
    """word2vec skip-gram with negative sampling on the training tweets' token ids (ids < `special`
    are special tokens and skipped). Returns the input vectors [vocab_size, dim]."""
    set_seed(seed)
    counts = np.bincount(np.concatenate([np.asarray(s) for s in seqs]), minlength=vocab_size).astype(np.float64)
    counts[:special] = 0
    freq = counts / counts.sum()
    # subsampling of frequent tokens (Mikolov et al. 2013), t = 1e-4
    keep_prob = np.minimum(1.0, np.sqrt(1e-4 / np.maximum(freq, 1e-12)) + 1e-4 / np.maximum(freq, 1e-12))
    noise = torch.tensor(counts ** 0.75, dtype=torch.float64)
    noise = noise / noise.sum()
    emb_in = nn.Embedding(vocab_size, dim, sparse=True)
    emb_out = nn.Embedding(vocab_size, dim, sparse=True)
    nn.init.uniform_(emb_in.weight, -0.5 / dim, 0.5 / dim)
    nn.init.zeros_(emb_out.weight)
    opt = torch.optim.SparseAdam(list(emb_in.parameters()) + list(emb_out.parameters()), lr=lr)
    rs = np.random.RandomState(seed)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        t0 = time.time()
        centers, contexts = [], []
        for s in seqs:
            s = np.asarray(s[1:-1])
            s = s[rs.random_sample(len(s)) < keep_prob[s]]
            n = len(s)
            if n < 2:
                continue
            spans = rs.randint(1, window + 1, size=n)
            for i in range(n):
                lo, hi = max(0, i - spans[i]), min(n, i + spans[i] + 1)
                for j in range(lo, hi):
                    if j != i:
                        centers.append(s[i])
                        contexts.append(s[j])
        c = torch.tensor(np.asarray(centers), dtype=torch.long)
        o = torch.tensor(np.asarray(contexts), dtype=torch.long)
        perm = torch.randperm(len(c), generator=gen)
        c, o = c[perm], o[perm]
        total = 0.0
        for k in range(0, len(c), batch_size):
            cb, ob = c[k:k + batch_size], o[k:k + batch_size]
            neg = torch.multinomial(noise, len(cb) * negatives, replacement=True, generator=gen).view(len(cb), negatives)
            vi = emb_in(cb)
            pos = (vi * emb_out(ob)).sum(-1)
            negs = torch.bmm(emb_out(neg), vi.unsqueeze(-1)).squeeze(-1)
            loss = -(F.logsigmoid(pos).mean() + F.logsigmoid(-negs).sum(-1).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(cb)
        log(f"  [skip-gram] epoch {epoch + 1}: {len(c)} pairs, loss {total / len(c):.4f}, {time.time() - t0:.1f}s")
    w = emb_in.weight.detach().clone()
    # scale to a typical embedding initialisation (unit-variance coordinates)
    w = w / w[special:].std()
    return w
