"""The tweet-sentiment network: a small ensemble trained from scratch, exported as one ONNX graph.

Importable by a Python server::

    from training.model import load_model
    model = load_model("models/twitter-sentiment")          # reads config.json + best_model.pt
    logits = model(input_ids, attention_mask)              # int64 [batch, seq] -> float32 [batch, 3]

Structure (config.json ``ensemble``):

* one token embedding table (learned, initialised with skip-gram vectors trained on the training
  tweets) and a fixed table of three sentiment-lexicon features per token (VADER valence / 4, positive
  flag, negative flag; not trained), concatenated: ``x = [embed(ids), lexicon[ids]]``;
* ``cnn`` members (reading the shared table, or one of their own of ``embed_dim`` columns):
  convolutions whose window *ends* at each position (a position only sees itself and
  the tokens before it, which are real tokens whenever the position is), ReLU, then max and mean pooling
  over real positions, a linear layer to 3 logits;
* a ``gru`` member (reading the shared table): two one-directional GRUs, one over the text and one over
  its real tokens in reverse order (reversed within each row's length, so pads stay behind the real
  tokens), max and mean pooling over real positions and the state after the last real token of each,
  a linear layer to 3 logits;
* a ``ngram`` member: logistic regression on the bag of token unigrams and hashed token bigrams
  (L2-normalised counts, bigrams that touch a pad dropped), six lexicon summaries of the tweet
  (sums of positive and negative valence, counts, maximum and minimum) and, optionally, the bag of the
  tokens' character n-grams (folded into one weight row per token, see NgramLinear);
* the logits are the mean of the members' log-softmax (softmax of them is the normalised geometric
  mean of the members' distributions). Label order: 0 negative, 1 neutral, 2 positive.

Every member reads only positions whose attention_mask is 1, so the logits of a text do not depend on
how far its batch is padded, on what the pad positions hold, nor on the other texts of the batch. Texts
are expected right-padded (real tokens first), as the server and tokenizer pad them.
"""
from __future__ import annotations

import json
import os
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_LABELS = 3
NEG = -1.0e4  # added to masked scores before max pooling; finite so that exports stay simple
LEXICON_SUMMARIES = 6

# Bigram hashing: bucket = (a * P1 + b) mod buckets, on int64 (no overflow for ids < 2**40).
P1 = 1_000_003


def float_mask(attention_mask: torch.Tensor):
    mask = attention_mask.to(torch.float32)
    lengths = mask.sum(dim=1, keepdim=True).clamp(min=1.0)
    return mask, lengths


def masked_max_mean(h: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """h [B, T, C], mask [B, T] -> [B, 2C]: max and mean over real positions."""
    m = mask.unsqueeze(-1)
    hmax = (h * m + (1.0 - m) * NEG).max(dim=1).values
    hmean = (h * m).sum(dim=1) / lengths
    return torch.cat([hmax, hmean], dim=1)


class CausalCNN(nn.Module):
    """Convolution head over token features x [B, T, C]; with `embed_dim` it has an embedding table of
    its own (plus the lexicon features) instead of the shared one."""

    def __init__(self, in_dim: int, widths: Sequence[int] = (1, 2, 3), filters: int = 128, dropout: float = 0.3,
                 embed_dim: int = 0, vocab_size: int = 0, lexicon_dim: int = 0, pad_id: int = 0, **_):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id) if embed_dim else None
        if embed_dim:
            in_dim = embed_dim + lexicon_dim
        self.lexicon_dim = lexicon_dim
        self.convs = nn.ModuleList(nn.Conv1d(in_dim, filters, w, padding=w - 1) for w in widths)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * filters * len(widths), NUM_LABELS)

    def own_features(self, input_ids: torch.Tensor, lex: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids)
        return torch.cat([x, lex], dim=2) if self.lexicon_dim else x

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask, lengths = float_mask(attention_mask)
        seq = x.shape[1]
        x = self.dropout(x).transpose(1, 2)  # [B, C, T]
        pooled = []
        for conv in self.convs:
            h = F.relu(conv(x)[:, :, :seq]).transpose(1, 2)  # the window ending at each position
            pooled.append(masked_max_mean(h, mask, lengths))
        return self.out(self.dropout(torch.cat(pooled, dim=1)))


def reverse_within_length(x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """x [B, T, C] right-padded -> each row's real positions in reverse order, pads left where they are
    (position t < length reads t' = length - 1 - t): a forward recurrence over the result reads the
    text backwards and never sees a pad before a real token."""
    seq = x.shape[1]
    lengths = attention_mask.sum(dim=1, keepdim=True)  # [B, 1] int64
    t = torch.arange(seq, dtype=lengths.dtype, device=x.device).unsqueeze(0)  # [1, T]
    index = torch.where(t < lengths, lengths - 1 - t, t)  # [B, T]
    return torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[2]))


def last_real(h: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """h [B, T, C] -> h at each row's last real position [B, C]."""
    last = (attention_mask.sum(dim=1, keepdim=True) - 1).clamp(min=0)  # [B, 1]
    return torch.gather(h, 1, last.unsqueeze(-1).expand(-1, -1, h.shape[2])).squeeze(1)


class BiGRU(nn.Module):
    """Two one-directional GRUs over token features x [B, T, C]: one reads each text forwards, the
    other its real tokens reversed (reverse_within_length), so neither reads a pad before a real token
    and the result does not depend on the padding. Per direction: max and mean over real positions and
    the state after the last real token; dropout, linear -> 3 logits."""

    def __init__(self, in_dim: int, hidden: int = 128, dropout: float = 0.3, embed_dim: int = 0,
                 vocab_size: int = 0, lexicon_dim: int = 0, pad_id: int = 0, **_):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id) if embed_dim else None
        if embed_dim:
            in_dim = embed_dim + lexicon_dim
        self.lexicon_dim = lexicon_dim
        self.forward_rnn = nn.GRU(in_dim, hidden, batch_first=True)
        self.backward_rnn = nn.GRU(in_dim, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(6 * hidden, NUM_LABELS)

    own_features = CausalCNN.own_features

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask, lengths = float_mask(attention_mask)
        x = self.dropout(x)
        hf, _ = self.forward_rnn(x)
        hb, _ = self.backward_rnn(reverse_within_length(x, attention_mask))
        pooled = torch.cat([masked_max_mean(hf, mask, lengths), last_real(hf, attention_mask),
                            masked_max_mean(hb, mask, lengths), last_real(hb, attention_mask)], dim=1)
        return self.out(self.dropout(pooled))


def lexicon_summaries(lex: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """lex [B, T, 3] (valence/4, positive flag, negative flag) -> [B, 6] over real positions."""
    v = lex[:, :, 0] * mask
    return torch.stack([
        F.relu(v).sum(dim=1), F.relu(-v).sum(dim=1),
        (lex[:, :, 1] * mask).sum(dim=1), (lex[:, :, 2] * mask).sum(dim=1),
        (v + (1.0 - mask) * NEG).max(dim=1).values, (v - (1.0 - mask) * NEG).min(dim=1).values,
    ], dim=1)


class NgramLinear(nn.Module):
    """Logistic regression on L2-normalised unigram + hashed-bigram counts, lexicon summaries and, with
    `chars` = [shortest, longest], the character n-grams of the tokens.

    The character n-gram weights are learned per n-gram (so rare and unseen spellings share what
    frequent ones taught, e.g. `loveee`, `lovin`, `##love`), but a token's n-grams never change, so
    training folds them into one row per token: `chargram[t]` = the sum of the weights of token t's
    n-grams (times their idf), and `char_norms[t]` = the sum of their squared idf; a text's n-gram
    block is divided by the square root of its tokens' `char_norms` (about its L2 norm, as for
    tf-idf). Serving costs two table look-ups."""

    def __init__(self, vocab_size: int, buckets: int = 131072, lexicon_dim: int = 3, chars=None, **_):
        super().__init__()
        self.buckets = buckets
        self.chars = list(chars) if chars else None
        self.unigram = nn.Embedding(vocab_size, NUM_LABELS)
        self.bigram = nn.Embedding(buckets, NUM_LABELS)
        if self.chars:
            self.chargram = nn.Embedding(vocab_size, NUM_LABELS)
            nn.init.zeros_(self.chargram.weight)
            self.register_buffer("char_norms", torch.zeros(vocab_size, 1))
        self.lexical = nn.Linear(LEXICON_SUMMARIES, NUM_LABELS) if lexicon_dim else None
        self.bias = nn.Parameter(torch.zeros(NUM_LABELS))
        nn.init.zeros_(self.unigram.weight)
        nn.init.zeros_(self.bigram.weight)
        if self.lexical is not None:
            nn.init.zeros_(self.lexical.weight)
            nn.init.zeros_(self.lexical.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, lex: torch.Tensor) -> torch.Tensor:
        mask, lengths = float_mask(attention_mask)
        m2 = mask[:, :-1] * mask[:, 1:]
        count = lengths + m2.sum(dim=1, keepdim=True)
        bigrams = torch.remainder(input_ids[:, :-1] * P1 + input_ids[:, 1:], self.buckets)
        total = (self.unigram(input_ids) * mask.unsqueeze(-1)).sum(dim=1) \
            + (self.bigram(bigrams) * m2.unsqueeze(-1)).sum(dim=1)
        out = total / count.sqrt() + self.bias
        if self.chars:
            char_norm = (F.embedding(input_ids, self.char_norms).squeeze(-1) * mask).sum(dim=1, keepdim=True)
            char_total = (self.chargram(input_ids) * mask.unsqueeze(-1)).sum(dim=1)
            out = out + char_total / char_norm.clamp(min=1.0).sqrt()
        if self.lexical is not None:
            out = out + self.lexical(lexicon_summaries(lex, mask))
        return out


class TweetSentimentModel(nn.Module):
    """config: {vocab_size, pad_id, embed_dim, lexicon_dim, members: [{type: cnn|ngram, ...}]}."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        vocab_size = config["vocab_size"]
        self.lexicon_dim = config.get("lexicon_dim", 0)
        self.embed = nn.Embedding(vocab_size, config["embed_dim"], padding_idx=config.get("pad_id", 0))
        self.register_buffer("lexicon", torch.zeros(vocab_size, max(1, self.lexicon_dim)))
        in_dim = config["embed_dim"] + self.lexicon_dim
        members: List[nn.Module] = []
        for spec in config["members"]:
            kwargs = {k: v for k, v in spec.items() if k != "type"}
            if spec["type"] == "cnn":
                members.append(CausalCNN(in_dim, vocab_size=vocab_size, lexicon_dim=self.lexicon_dim,
                                         pad_id=config.get("pad_id", 0), **kwargs))
            elif spec["type"] == "gru":
                members.append(BiGRU(in_dim, vocab_size=vocab_size, lexicon_dim=self.lexicon_dim,
                                     pad_id=config.get("pad_id", 0), **kwargs))
            elif spec["type"] == "ngram":
                members.append(NgramLinear(vocab_size, lexicon_dim=self.lexicon_dim, **kwargs))
            else:
                raise ValueError(f"unknown member type {spec['type']}")
        self.members = nn.ModuleList(members)

    def features(self, input_ids: torch.Tensor):
        lex = F.embedding(input_ids, self.lexicon)
        x = self.embed(input_ids)
        if self.lexicon_dim:
            x = torch.cat([x, lex], dim=2)
        return x, lex

    def member_logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> List[torch.Tensor]:
        x, lex = self.features(input_ids)
        out = []
        for spec, member in zip(self.config["members"], self.members):
            if spec["type"] == "ngram":
                out.append(member(input_ids, attention_mask, lex))
            elif member.embed is not None:
                out.append(member(member.own_features(input_ids, lex), attention_mask))
            else:
                out.append(member(x, attention_mask))
        return out

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        logps = [F.log_softmax(z, dim=-1) for z in self.member_logits(input_ids, attention_mask)]
        return torch.stack(logps, dim=0).mean(dim=0)


class MemberView(nn.Module):
    """One member of a TweetSentimentModel as a model of its own (for training and per-member metrics)."""

    def __init__(self, model: TweetSentimentModel, index: int):
        super().__init__()
        self.model = model
        self.index = index

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x, lex = self.model.features(input_ids)
        spec = self.model.config["members"][self.index]
        member = self.model.members[self.index]
        if spec["type"] == "ngram":
            return member(input_ids, attention_mask, lex)
        if member.embed is not None:
            return member(member.own_features(input_ids, lex), attention_mask)
        return member(x, attention_mask)


def load_model(model_dir: str, map_location: str = "cpu") -> TweetSentimentModel:
    """The model of a model directory (config.json's `ensemble` + best_model.pt), in eval mode."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    model = TweetSentimentModel(config["ensemble"])
    state = torch.load(os.path.join(model_dir, "best_model.pt"), map_location=map_location)
    state = state.get("state_dict", state)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    return model
