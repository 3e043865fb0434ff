"""Fixed per-token sentiment-lexicon features (VADER, training/lexicon/) for the model's vocabulary."""
from __future__ import annotations

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training.build_tokenizer import LEXICON, lexicon_tokens  # noqa: E402
from training.tweet_tokenizer import _build_normalizer, _build_pre_tokenizer  # noqa: E402

LEXICON_DIM = 3


def lexicon_table(tokenizer_json: dict, path: str = LEXICON) -> torch.Tensor:
    """[vocab, 3]: valence / 4, 1 if valence > 0, 1 if valence < 0, for whole-word lexicon tokens."""
    norm = _build_normalizer(tokenizer_json["normalizer"])
    split = _build_pre_tokenizer(tokenizer_json["pre_tokenizer"])
    scores = lexicon_tokens(norm, split, path)
    vocab = tokenizer_json["model"]["vocab"]
    table = torch.zeros(max(vocab.values()) + 1, LEXICON_DIM)
    for tok, valence in scores.items():
        i = vocab.get(tok)
        if i is None:
            continue
        table[i, 0] = valence / 4.0
        table[i, 1] = float(valence > 0)
        table[i, 2] = float(valence < 0)
    return table


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        t = lexicon_table(json.load(f))
    print("tokens with lexicon features:", int((t[:, 0] != 0).sum()))
