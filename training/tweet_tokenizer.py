"""Pure-Python reader of the model's Hugging Face ``tokenizer.json``.

It gives exactly the ids that the project's Node tokenizer (``inference/tokenizer.ts``, which wraps
``@huggingface/tokenizers``) gives, special tokens and truncation included, so that a Python server
(the Flask + PyTorch baseline in bench/) can serve ``best_model.pt`` with per-request tokenization.

It implements only the components that ``training/build_tokenizer.py`` writes, and refuses any other:

* added tokens (special, not normalized, no lstrip/rstrip), matched in the raw text first, longest
  match first, like the library's DictionarySplitter;
* normalizers ``Sequence``, ``NFKD``/``NFKC``/``NFD``/``NFC``, ``Lowercase`` and ``Replace`` (String
  or Regex pattern, literal content);
* pre-tokenizer ``Split`` with ``invert: true`` (the pattern's matches are the pre-tokens);
* model ``WordPiece`` (greedy longest match first, ``##`` continuation, [UNK] for a whole word);
* post-processor ``TemplateProcessing`` for a single sequence;
* truncation to ``model_max_length`` (tokenizer_config.json) that keeps the closing special tokens,
  the same cut as ``TextTokenizer.encode``.

The regular expressions in the tokenizer are written in the subset where Oniguruma (Rust),
JavaScript (after the library's translation) and Python's ``re`` agree: literal characters, escaped
punctuation, bracket classes of explicit characters and ranges, greedy quantifiers, non-capturing
groups, negative look-ahead and alternation; no ``\\w``, ``\\s``, ``\\d``, ``\\b``, ``\\p{..}`` or
``.``. ``_check_regex`` rejects anything else, so a later edit cannot silently break parity.
``training/check_parity.py`` compares this implementation with the Node one on every tweet of the
data set and on every Unicode code point.

Usage::

    from training.tweet_tokenizer import TweetTokenizer
    tok = TweetTokenizer.from_dir("models/twitter-sentiment")
    ids, truncated = tok.encode("I love this :)")
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ["TweetTokenizer", "normalize_with", "pre_tokenize_with", "compile_pattern"]

# Escapes allowed in patterns: punctuation (identity escapes), \xHH and \uHHHH code points.
_ALLOWED_ESCAPE = re.compile(r"\\(?:[\\\[\]\-^$.*+?(){}|/!\"#%&',:;<=>@_`~]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")


def _check_regex(pattern: str) -> None:
    """Reject regex constructs whose meaning differs between Oniguruma, JavaScript and Python."""
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            m = _ALLOWED_ESCAPE.match(pattern, i)
            if not m:
                raise ValueError(f"unsupported escape {pattern[i:i + 2]!r} in {pattern!r}")
            i = m.end()
            continue
        if in_class:
            if ch == "[" or pattern.startswith("&&", i):
                raise ValueError(f"nested classes and intersections are not portable in {pattern!r}")
            if ch == "]":
                in_class = False
            i += 1
            continue
        if ch == "[":
            in_class = True
            i += 1
            if pattern.startswith("^", i):
                i += 1
            if pattern.startswith("]", i):
                raise ValueError(f"a literal ']' first in a class is not portable in {pattern!r}")
            continue
        if ch in ".^$":
            raise ValueError(f"{ch!r} outside a class is not portable in {pattern!r}")
        if ch == "(" and not (pattern.startswith("(?:", i) or pattern.startswith("(?!", i)):
            raise ValueError(f"only (?: and (?! groups are portable in {pattern!r}")
        if ch in "+*?}" and pattern.startswith(("+", "?"), i + 1):
            raise ValueError(f"possessive or lazy quantifiers are not portable in {pattern!r}")
        i += 1
    if in_class:
        raise ValueError(f"unterminated class in {pattern!r}")


def compile_pattern(pattern: dict) -> "re.Pattern[str]":
    if "String" in pattern:
        return re.compile(re.escape(pattern["String"]))
    if "Regex" in pattern:
        _check_regex(pattern["Regex"])
        return re.compile(pattern["Regex"])
    raise ValueError(f"unsupported pattern {pattern!r}")


def _build_normalizer(config: Optional[dict]):
    """Returns a list of str -> str functions applied in order."""
    if config is None:
        return []
    kind = config["type"]
    if kind == "Sequence":
        steps = []
        for sub in config["normalizers"]:
            steps.extend(_build_normalizer(sub))
        return steps
    if kind in ("NFKD", "NFKC", "NFD", "NFC"):
        return [lambda s, form=kind: unicodedata.normalize(form, s)]
    if kind == "Lowercase":
        return [str.lower]
    if kind == "Replace":
        regex = compile_pattern(config["pattern"])
        content = config.get("content", "")
        if "$" in content or "\\" in content:
            # JavaScript's String.replaceAll would read "$&", "$1" in the content as substitutions.
            raise ValueError(f"Replace content {content!r} is not portable")
        return [lambda s, r=regex, c=content: r.sub(lambda _m: c, s)]
    raise ValueError(f"unsupported normalizer {kind}")


def normalize_with(steps, text: str) -> str:
    for step in steps:
        text = step(text)
    return text


def _build_pre_tokenizer(config: Optional[dict]):
    if config is None:
        return None
    if config["type"] == "Split" and config.get("invert") is True:
        return compile_pattern(config["pattern"])
    raise ValueError(f"unsupported pre-tokenizer {config!r}: only Split with invert=true")


def pre_tokenize_with(regex, text: str) -> List[str]:
    if regex is None:
        return [text]
    return [m for m in regex.findall(text) if m]


class TweetTokenizer:
    def __init__(self, tokenizer_json: dict, tokenizer_config: Optional[dict] = None,
                 max_length: Optional[int] = None):
        tokenizer_config = tokenizer_config or {}
        model = tokenizer_json["model"]
        if model.get("type") != "WordPiece":
            raise ValueError("only WordPiece models are supported")
        self.vocab: Dict[str, int] = dict(model["vocab"])
        self.unk_token: str = model["unk_token"]
        self.prefix: str = model.get("continuing_subword_prefix", "##")
        self.max_chars: int = model.get("max_input_chars_per_word", 100)

        self.added: Dict[str, int] = {}
        for tok in tokenizer_json.get("added_tokens", []):
            if tok.get("normalized") or tok.get("lstrip") or tok.get("rstrip") or tok.get("single_word"):
                raise ValueError(f"unsupported added token {tok!r}")
            self.added[tok["content"]] = tok["id"]
            self.vocab.setdefault(tok["content"], tok["id"])
        self.unk_id: int = self.vocab[self.unk_token]
        # Longest-first matching of added tokens, as DictionarySplitter does.
        self._added_sorted = sorted(self.added, key=len, reverse=True)

        self._normalizer = _build_normalizer(tokenizer_json.get("normalizer"))
        self._pre_tokenizer = _build_pre_tokenizer(tokenizer_json.get("pre_tokenizer"))

        post = tokenizer_json.get("post_processor")
        self.prefix_ids: List[int] = []
        self.suffix_ids: List[int] = []
        if post is not None:
            if post["type"] != "TemplateProcessing":
                raise ValueError("only TemplateProcessing post-processors are supported")
            seen_sequence = False
            for item in post["single"]:
                if "SpecialToken" in item:
                    tid = self._token_id(item["SpecialToken"]["id"])
                    (self.suffix_ids if seen_sequence else self.prefix_ids).append(tid)
                elif "Sequence" in item:
                    seen_sequence = True

        padding = tokenizer_json.get("padding") or {}
        pad_token = tokenizer_config.get("pad_token")
        if isinstance(padding.get("pad_id"), int):
            self.pad_id = padding["pad_id"]
        elif isinstance(pad_token, str) and pad_token in self.vocab:
            self.pad_id = self.vocab[pad_token]
        else:
            self.pad_id = 0
        if max_length is None:
            max_length = tokenizer_config.get("model_max_length", 512)
        self.max_length = int(max_length)
        self._cache: Dict[str, List[int]] = {}

    @classmethod
    def from_dir(cls, model_dir: str, max_length: Optional[int] = None) -> "TweetTokenizer":
        with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
            tokenizer_json = json.load(f)
        config_path = os.path.join(model_dir, "tokenizer_config.json")
        config = {}
        if os.path.exists(config_path):
            with open(config_path, encoding="utf-8") as f:
                config = json.load(f)
        return cls(tokenizer_json, config, max_length)

    def _token_id(self, token: str) -> int:
        if token in self.added:
            return self.added[token]
        return self.vocab.get(token, self.unk_id)

    # -- pipeline stages -------------------------------------------------------------------------
    def normalize(self, text: str) -> str:
        return normalize_with(self._normalizer, text)

    def pre_tokenize(self, normalized: str) -> List[str]:
        return pre_tokenize_with(self._pre_tokenizer, normalized)

    def word_piece(self, word: str) -> List[str]:
        if len(word) > self.max_chars:
            return [self.unk_token]
        pieces: List[str] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = self.prefix + sub
                if sub in self.vocab:
                    found = sub
                    break
                end -= 1
            if found is None:
                return [self.unk_token]
            pieces.append(found)
            start = end
        return pieces

    def _split_added(self, text: str) -> List[str]:
        """The text cut around added tokens, longest match at the earliest position, like JS."""
        if not self._added_sorted:
            return [text]
        out: List[str] = []
        start = i = 0
        n = len(text)
        while i < n:
            match = None
            for tok in self._added_sorted:
                if text.startswith(tok, i):
                    match = tok
                    break
            if match is not None:
                if i > start:
                    out.append(text[start:i])
                out.append(match)
                i += len(match)
                start = i
            else:
                i += 1
        if start < n:
            out.append(text[start:])
        return out

    def tokenize(self, text: str) -> List[str]:
        """Tokens without the special tokens of the template (add_special_tokens=False)."""
        tokens: List[str] = []
        for section in self._split_added(text):
            if not section:
                continue
            if section in self.added:
                tokens.append(section)
                continue
            normalized = self.normalize(section)
            if not normalized:
                continue
            for word in self.pre_tokenize(normalized):
                tokens.extend(self.word_piece(word))
        return tokens

    def encode_full(self, text: str) -> List[int]:
        """All ids, special tokens included, before truncation."""
        return self.prefix_ids + [self._token_id(t) for t in self.tokenize(text)] + self.suffix_ids

    def encode(self, text: str) -> Tuple[List[int], bool]:
        """(ids, truncated): the same as TextTokenizer.encode in inference/tokenizer.ts."""
        ids = self.encode_full(text)
        if len(ids) <= self.max_length:
            return ids, False
        keep = self.max_length - len(self.suffix_ids)
        return ids[:keep] + ids[len(ids) - len(self.suffix_ids):], True

    def encode_batch(self, texts: Sequence[str], pad_to_multiple_of: int = 8):
        """Right-padded ids and attention mask for a batch, as the server builds them."""
        encoded = [self.encode(t)[0] for t in texts]
        longest = max((len(e) for e in encoded), default=1)
        if pad_to_multiple_of > 1:
            longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
        ids = [e + [self.pad_id] * (longest - len(e)) for e in encoded]
        mask = [[1] * len(e) + [0] * (longest - len(e)) for e in encoded]
        return ids, mask


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    tok = TweetTokenizer.from_dir(sys.argv[1] if len(sys.argv) > 1 else "models/twitter-sentiment")
    for line in sys.stdin:
        text = line.rstrip("\n")
        print(json.dumps({"text": text, "tokens": tok.tokenize(text), "ids": tok.encode(text)[0]},
                         ensure_ascii=False))
