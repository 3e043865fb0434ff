"""Pure-Python (PyTorch) inference with the shipped model: what a Flask + PyTorch baseline server does.

    echo "I love this :)" | /usr/bin/python3 training/predict.py
    /usr/bin/python3 training/predict.py --check     # PyTorch + Python tokenizer vs reference-logits.json

Per request: TweetTokenizer (training/tweet_tokenizer.py, the same ids as the Node server) ->
right-padded batch -> TweetSentimentModel (training/model.py) with best_model.pt -> softmax.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import torch  # noqa: E402

from training.model import load_model  # noqa: E402
from training.tweet_tokenizer import TweetTokenizer  # noqa: E402


class SentimentPredictor:
    def __init__(self, model_dir: str = os.path.join(ROOT, "models", "twitter-sentiment")):
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        self.labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
        self.tokenizer = TweetTokenizer.from_dir(model_dir)
        self.model = load_model(model_dir)

    @torch.no_grad()
    def logits(self, texts):
        ids, mask = self.tokenizer.encode_batch(texts)
        return self.model(torch.tensor(ids, dtype=torch.long), torch.tensor(mask, dtype=torch.long))

    def predict(self, texts):
        probs = torch.softmax(self.logits(texts), dim=-1)
        return [{"label": self.labels[int(p.argmax())], "scores": dict(zip(self.labels, map(float, p)))}
                for p in probs]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "twitter-sentiment"))
    parser.add_argument("--check", action="store_true", help="compare with reference-logits.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    predictor = SentimentPredictor(args.model)
    if args.check:
        with open(os.path.join(args.model, "reference-logits.json"), encoding="utf-8") as f:
            reference = json.load(f)["tweets"]
        texts = [r["text"] for r in reference]
        id_mismatches = sum(predictor.tokenizer.encode(r["text"])[0] != r["ids"] for r in reference)
        worst = 0.0
        for k in range(0, len(texts), 32):  # padded batches of mixed lengths, as a server would run them
            got = predictor.logits(texts[k:k + 32])
            want = torch.tensor([r["logits"] for r in reference[k:k + 32]])
            worst = max(worst, float((got - want).abs().max()))
        print(json.dumps({"tweets": len(texts), "id_mismatches": id_mismatches, "max_abs_logit_diff": worst}))
        sys.exit(0 if id_mismatches == 0 and worst <= 1e-4 else 1)
    for line in sys.stdin:
        text = line.rstrip("\n")
        print(json.dumps({"text": text, **predictor.predict([text])[0]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
