"""Learns the model's WordPiece tokenizer from the training tweets and writes tokenizer.json.

    /usr/bin/python3 training/build_tokenizer.py --data data/tweeteval-sentiment \
        --out models/twitter-sentiment --vocab-size 15000

Only train.jsonl is read (the validation tweets play no part in the vocabulary).

Normalization (a Hugging Face normalizer Sequence, in this order):
  1. NFKD, then combining marks U+0300-U+036F removed: accents stripped, fancy Unicode letters
     (fullwidth, mathematical bold...) and ligatures folded to ASCII, U+2026 to "...".
  2. Emoji presentation selectors, zero-width joiners and skin tones removed; control and odd
     whitespace characters made plain spaces.
  3. Lowercase.
  4. Data-set artefacts decoded: the literal escapes \\u2019, \\u002c and friends, \\" and runs of
     doubled quotes, HTML entities (&amp; &lt; &gt; &quot;), typographic quotes to ASCII.
  5. URLs to "http", user mentions to "@user" (as TweetEval and the Twitter-RoBERTa models do).
  6. Common emoji to the ASCII emoticon with the same sentiment (the training tweets hold only
     ASCII emoticons, so this is how an emoji in a request gets a learned meaning).
  7. Elongations shortened: a letter repeated 3+ times kept twice ("soooo" -> "soo", which stays
     distinct from "so"), "!!!!" -> "!!", "????" -> "??", ".." or more -> "...", "hahaha" -> "haha".
Pre-tokenization (Split, matches kept): "@user", heart and face emoticons (":)", ":-(", ";D",
":'(", "<3", "</3", "^_^", "-_-"...), words with inner apostrophes ("don't"), runs of !/? and of dots,
then any other single non-space character (emoji, symbols, punctuation).
Model: WordPiece, vocabulary learned by byte-pair-style merges on the pre-token counts (what the
Hugging Face WordPiece trainer does), "##" continuation prefix; every printable ASCII character is
in the alphabet so an ASCII word never becomes [UNK].
Every VADER lexicon entry (training/lexicon/) that normalizes to a single pre-token is then added as a
whole-word token, so that the model's fixed lexicon features reach it.
Post-processing: [CLS] text [SEP]; [PAD] = 0. tokenizer_config.json sets model_max_length.

All regular expressions stay in the subset where Oniguruma, JavaScript and Python agree (see
training/tweet_tokenizer.py), and every Replace content is literal, so the pure-Python tokenizer
reproduces the Node ids exactly.
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
import time
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training.tweet_tokenizer import (_build_normalizer, _build_pre_tokenizer,  # noqa: E402
                                      normalize_with, pre_tokenize_with)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_LENGTH = 128

# Characters that never belong to a word: ASCII controls, space and punctuation (but not "_"),
# Latin-1 controls, punctuation and symbols, general punctuation through miscellaneous symbols and
# arrows (U+2000-U+2BFF: dingbats, hearts, stars), CJK punctuation, variation selectors and small
# forms, fullwidth punctuation, and every astral code point (emoji).
NON_WORD = ("\\x00-\\x2f\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\xbf\\xd7\\xf7\\u2000-\\u2bff\\u3000-\\u303f"
            "\\ufe00-\\ufe6f\\uff00-\\uff0f\U00010000-\U0010ffff")
WORD = f"[^{NON_WORD}]"

# Emoji -> emoticon. Keys are literal characters (a class), values the emoticon with spaces around.
EMOJI_GROUPS = [
    ("\U0001F602\U0001F923\U0001F639", " haha "),                              # tears of joy
    ("\U0001F600\U0001F603\U0001F604\U0001F601\U0001F60A\U0001F642\u263a\U0001F607\U0001F638"
     "\U0001F63A\U0001F60E\U0001F44D\U0001F44C\U0001F44F\U0001F64C\U0001F917", " :) "),  # smiles, thumbs up
    ("\U0001F606\U0001F605\U0001F973\U0001F389", " :d "),                      # big grin, party
    ("\u2764\u2665\u2763\U0001F495\U0001F496\U0001F497\U0001F493\U0001F49E\U0001F498\U0001F49D"
     "\U0001F499\U0001F49A\U0001F49B\U0001F49C\U0001F9E1\U0001F90D\U0001F60D\U0001F618\U0001F63B"
     "\U0001F970\U0001F617\U0001F619\U0001F61A", " <3 "),                      # hearts, kisses
    ("\U0001F494", " </3 "),                                                    # broken heart
    ("\U0001F62D", " :'( "),                                                    # loudly crying
    ("\U0001F622\U0001F61E\U0001F614\u2639\U0001F641\U0001F61F\U0001F615\U0001F63F\U0001F629"
     "\U0001F62B\U0001F623\U0001F616\U0001F625\U0001F613\U0001F62A\U0001F620\U0001F621\U0001F92C"
     "\U0001F47F\U0001F624\U0001F44E\U0001F92E\U0001F922", " :( "),           # sad, angry, thumbs down
    ("\U0001F609\U0001F61C", " ;) "),                                           # wink
    ("\U0001F61B\U0001F61D\U0001F60B", " :p "),                                 # tongue
    ("\U0001F612\U0001F611\U0001F644\U0001F610", " -_- "),                      # unamused, eye roll
    ("\U0001F631\U0001F628\U0001F630\U0001F62E\U0001F632", " :o "),             # fear, surprise
]


def regex(pattern: str, content: str) -> dict:
    return {"type": "Replace", "pattern": {"Regex": pattern}, "content": content}


def string(pattern: str, content: str) -> dict:
    return {"type": "Replace", "pattern": {"String": pattern}, "content": content}


def normalizer_spec() -> dict:
    steps = [
        {"type": "NFKD"},
        regex("[\\u0300-\\u036f\\u200b-\\u200d\\u2060\\ufe0e\\ufe0f\\ufeff\U0001F3FB-\U0001F3FF]", ""),
        regex("[\\x00-\\x1f\\x7f-\\x9f\\u1680\\u2028\\u2029]", " "),
        {"type": "Lowercase"},
        # TweetEval artefacts: literal JSON escapes, doubled quotes, HTML entities; typographic quotes.
        regex("\\\\u201[89ab]|[\\u2018-\\u201b\\u2032]", "'"),
        regex("\\\\u201[cdef]|\\\\\"|[\\u201c-\\u201f\\u2033]", "\""),
        string("\\u002c", ","),
        string("\\u2026", "..."),
        regex("\\\\u20(?:13|14|15)|[\\u2010-\\u2015]", "-"),
        regex("\\\\u00a0|&nbsp;", " "),
        string("&amp;", "&"),
        string("&lt;", "<"),
        string("&gt;", ">"),
        string("&quot;", "\""),
        regex("\"{2,}", "\""),
        regex("https?:\\/\\/[^ ]*|www\\.[^ ]+", " http "),
        regex("@[a-z0-9_]+", "@user"),
    ]
    steps += [regex(f"[{chars}]", content) for chars, content in EMOJI_GROUPS]
    steps += [regex(f"{c}{{3,}}", c + c) for c in "abcdefghijklmnopqrstuvwxyz"]
    steps += [
        regex("!{3,}", "!!"),
        regex("\\?{3,}", "??"),
        regex("\\.{2,}", "..."),
        regex("a?(?:ha){2,}h?", "haha"),
        regex("(?:he){3,}", "hehe"),
        regex("l(?:ol){2,}", "lol"),
    ]
    return {"type": "Sequence", "normalizers": steps}


def pre_tokenizer_spec() -> dict:
    no_word_after = "(?![a-z0-9_])"
    alternatives = [
        "@user",
        "<\\/?3+",                                                        # <3 </3 <333
        f"[:;=][-'^o]?(?:[)(\\]\\[\\/\\\\|*]+|[dpo3s@$x]{no_word_after})",  # :) :-( ;D :'( :/ =))
        f"[)(][-'^]?[:;=]{no_word_after}",                                 # (: ):
        "\\^[_\\-o]?\\^",                                                  # ^^ ^_^
        "-_+-",                                                            # -_-
        f"{WORD}+(?:'{WORD}+)*",                                           # words, don't, i'm
        "[!?]+",
        "\\.+",
        "[^ ]",                                                            # any other character
    ]
    return {"type": "Split", "pattern": {"Regex": "|".join(alternatives)}, "behavior": "Removed",
            "invert": True}


def learn_wordpiece(word_counts: Counter, vocab_size: int, alphabet: set, min_frequency: int = 2):
    """Byte-pair-style merges over characters with '##' continuation, as HF's WordPiece trainer."""
    words = []
    counts = []
    for word, count in sorted(word_counts.items()):
        words.append([word[0]] + ["##" + ch for ch in word[1:]])
        counts.append(count)
    vocab = list(SPECIAL_TOKENS)
    seen = set(vocab)
    for ch in sorted(alphabet):
        for tok in (ch, "##" + ch):
            if tok not in seen:
                seen.add(tok)
                vocab.append(tok)

    pair_counts = defaultdict(int)
    where = defaultdict(set)
    for i, symbols in enumerate(words):
        for a, b in zip(symbols, symbols[1:]):
            pair_counts[(a, b)] += counts[i]
            where[(a, b)].add(i)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)

    def merged(a: str, b: str) -> str:
        return a + b[2:]

    while len(vocab) < vocab_size and heap:
        neg, pair = heapq.heappop(heap)
        current = pair_counts.get(pair, 0)
        if current != -neg:
            if current > 0:
                heapq.heappush(heap, (-current, pair))
            continue
        if current < min_frequency:
            break
        a, b = pair
        new = merged(a, b)
        if new not in seen:
            seen.add(new)
            vocab.append(new)
        touched = set()
        for i in list(where[pair]):
            symbols = words[i]
            c = counts[i]
            # remove this word's old pairs
            for x, y in zip(symbols, symbols[1:]):
                pair_counts[(x, y)] -= c
                where[(x, y)].discard(i)
                touched.add((x, y))
            j = 0
            out = []
            while j < len(symbols):
                if j + 1 < len(symbols) and symbols[j] == a and symbols[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(symbols[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):
                pair_counts[(x, y)] += c
                where[(x, y)].add(i)
                touched.add((x, y))
        for p in touched:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                pair_counts.pop(p, None)
                where.pop(p, None)
    return vocab


LEXICON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lexicon", "vader_lexicon.txt")


def read_lexicon(path: str = LEXICON):
    """[(entry, mean valence)] of the VADER lexicon, in file order."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0]:
                entries.append((parts[0], float(parts[1])))
    return entries


def lexicon_tokens(norm_steps, split, path: str = LEXICON):
    """{pre-token: mean valence} for the lexicon entries that normalize to exactly one pre-token."""
    sums = defaultdict(float)
    counts = defaultdict(int)
    for entry, valence in read_lexicon(path):
        pieces = pre_tokenize_with(split, normalize_with(norm_steps, entry))
        if len(pieces) == 1:
            sums[pieces[0]] += valence
            counts[pieces[0]] += 1
    return {tok: sums[tok] / counts[tok] for tok in sums}


def read_texts(path: str):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data", "tweeteval-sentiment"))
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "models", "twitter-sentiment"))
    parser.add_argument("--vocab-size", type=int, default=15000, help="tokens learned from the tweets")
    parser.add_argument("--max-length", type=int, default=MAX_LENGTH)
    args = parser.parse_args()

    t0 = time.time()
    normalizer = normalizer_spec()
    pre_tokenizer = pre_tokenizer_spec()
    norm_steps = _build_normalizer(normalizer)
    split = _build_pre_tokenizer(pre_tokenizer)

    texts = read_texts(os.path.join(args.data, "train.jsonl"))
    word_counts: Counter = Counter()
    for text in texts:
        for section in [text]:  # no special-token strings occur in the data
            word_counts.update(pre_tokenize_with(split, normalize_with(norm_steps, section)))
    alphabet = {chr(c) for c in range(0x21, 0x7f)}
    for word in word_counts:
        alphabet.update(word)
    vocab = learn_wordpiece(word_counts, args.vocab_size, alphabet)
    learned = len(vocab)
    # Whole-word tokens for every sentiment-lexicon entry (its features are fixed, see train.py).
    known = set(vocab)
    for tok in sorted(lexicon_tokens(norm_steps, split)):
        if tok not in known and not tok.startswith("##"):
            known.add(tok)
            vocab.append(tok)
    vocab_map = {tok: i for i, tok in enumerate(vocab)}

    added = [{"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, tok in enumerate(SPECIAL_TOKENS)]
    cls_id, sep_id = vocab_map["[CLS]"], vocab_map["[SEP]"]
    tokenizer = {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": args.max_length, "strategy": "LongestFirst",
                       "stride": 0},
        "padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": 8,
                    "pad_id": vocab_map["[PAD]"], "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [cls_id], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [sep_id], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab_map},
    }
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": args.max_length,
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": True,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config, f, indent=2)
        f.write("\n")
    singles = sum(1 for w, c in word_counts.items() if w in vocab_map)
    print(f"tokenizer: {len(vocab)} tokens ({learned} learned, {len(vocab) - learned} added from the lexicon) "
          f"from {len(texts)} tweets, {len(word_counts)} distinct pre-tokens "
          f"({singles} of them whole in the vocabulary), {time.time() - t0:.1f}s", flush=True)


if __name__ == "__main__":
    main()
