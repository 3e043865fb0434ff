"""Checks that training/tweet_tokenizer.py gives exactly the ids of the Node tokenizer.

    /usr/bin/python3 training/check_parity.py --model models/twitter-sentiment --work training/work
        compares Python ids with the Node ids of training/tokenize-data.ts (ids-train.json and
        ids-validation.json) on all 47,615 tweets.
    /usr/bin/python3 training/check_parity.py --codepoints
        also writes probes built around every Unicode scalar value (U+0000..U+10FFFF, no surrogates),
        has Node tokenize them (npx tsx training/tokenize-data.ts --probe) and compares.

Prints a JSON summary; exits 1 on any mismatch.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from training.tweet_tokenizer import TweetTokenizer  # noqa: E402


def compare(tok: TweetTokenizer, texts, node_ids):
    mismatches = []
    for text, expected in zip(texts, node_ids):
        got = tok.encode(text)[0]
        if got != expected:
            mismatches.append({"text": text, "python": got, "node": expected})
    return mismatches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "twitter-sentiment"))
    parser.add_argument("--work", default=os.path.join(ROOT, "training", "work"))
    parser.add_argument("--codepoints", action="store_true")
    args = parser.parse_args()
    tok = TweetTokenizer.from_dir(args.model)
    summary = {}
    failed = False
    for split in ("train", "validation"):
        with open(os.path.join(args.work, f"ids-{split}.json"), encoding="utf-8") as f:
            data = json.load(f)
        t0 = time.time()
        bad = compare(tok, data["texts"], data["ids"])
        summary[split] = {"tweets": len(data["texts"]), "mismatches": len(bad),
                          "python_seconds": round(time.time() - t0, 1)}
        if bad:
            failed = True
            summary[split]["examples"] = bad[:5]
    if args.codepoints:
        probes = []
        for cp in range(0x110000):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            c = chr(cp)
            # The character alone, inside a word, after a word, repeated, and in an emoticon context.
            probes.append(f"{c} a{c}b x{c} {c}{c}{c}{c} :{c} @{c}user {c}'s")
        probe_path = os.path.join(args.work, "probes.json")
        out_path = os.path.join(args.work, "probe-ids.json")
        with open(probe_path, "w", encoding="utf-8") as f:
            json.dump(probes, f, ensure_ascii=True)
        subprocess.run(["npx", "tsx", "training/tokenize-data.ts", "--model", args.model, "--probe", probe_path,
                        "--probe-out", out_path], cwd=ROOT, check=True)
        with open(out_path, encoding="utf-8") as f:
            node_ids = json.load(f)
        t0 = time.time()
        bad = compare(tok, probes, node_ids)
        summary["codepoints"] = {"probes": len(probes), "mismatches": len(bad),
                                 "python_seconds": round(time.time() - t0, 1)}
        if bad:
            failed = True
            summary["codepoints"]["examples"] = [
                dict(b, codepoint=f"U+{ord(b['text'][0]):04X}") for b in bad[:20]]
            summary["codepoints"]["mismatched_codepoints"] = [f"U+{ord(b['text'][0]):04X}" for b in bad[:500]]
    print(json.dumps(summary, ensure_ascii=True, indent=1))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
