"""The seed's design, as a baseline: Flask + PyTorch, one forward pass per request, under gunicorn.

It serves the very weights the service serves: ``best_model.pt`` of the model directory, through the
network defined in ``training/model.py``, with the tokenizer reimplemented in pure Python
(``training/tweet_tokenizer.py``, which gives the serving token ids). Same JSON API as the service for the
routes the benchmark calls:

* ``GET /api/health`` -> ``{"status": "healthy", "message": "API is running"}``
* ``POST /api/predict`` ``{"text": ...}`` -> ``{"label", "score", "scores", "truncated"}``
* ``POST /api/predict/batch`` ``{"texts": [...]}`` -> ``{"predictions": [...]}``, one forward pass per
  text, as a seed client would have called ``/api/predict`` once per text (the seed had no batching).

Run with Debian's packages (``/usr/bin/python3``: python3-flask, python3-torch, gunicorn)::

    MODEL_PATH=models/twitter-sentiment /usr/bin/python3 -m gunicorn \\
        -c bench/baselines/gunicorn.conf.py --bind 127.0.0.1:5100 seed_server:app

``TORCH_THREADS`` (default 1) sets torch's intra-op threads per worker process; see gunicorn.conf.py
for why 2 workers x 1 torch thread on 2 cores.
"""
from __future__ import annotations

import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import torch  # noqa: E402

# Before any parallel work: one compute thread per worker process (gunicorn.conf.py explains).
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set in this process
    pass

from flask import Flask, jsonify, request  # noqa: E402

from training.model import load_model  # noqa: E402
from training.tweet_tokenizer import TweetTokenizer  # noqa: E402

MODEL_PATH = os.path.abspath(os.environ.get("MODEL_PATH") or os.path.join(ROOT, "models", "twitter-sentiment"))
if MODEL_PATH.endswith(".onnx") or MODEL_PATH.endswith(".pt"):
    MODEL_PATH = os.path.dirname(MODEL_PATH)
MAX_TEXT_CHARS = int(os.environ.get("MAX_TEXT_CHARS", "5000"))
MAX_CLIENT_BATCH = int(os.environ.get("MAX_CLIENT_BATCH", "64"))

with open(os.path.join(MODEL_PATH, "config.json"), encoding="utf-8") as f:
    _config = json.load(f)
LABELS = [_config["id2label"][str(i)] for i in range(len(_config["id2label"]))]
model = load_model(MODEL_PATH)
tokenizer = TweetTokenizer.from_dir(MODEL_PATH)

app = Flask(__name__)


def error(status: int, message: str):
    names = {400: "Bad Request", 413: "Payload Too Large"}
    return jsonify({"statusCode": status, "error": names.get(status, "Error"), "message": message}), status


def check_text(text, where: str):
    if not isinstance(text, str) or not text.strip():
        return error(400, f"{where} must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        return error(413, f"{where} is longer than {MAX_TEXT_CHARS} characters")
    return None


def predict_one(text: str) -> dict:
    """One text, one forward pass: what the seed did for every request."""
    ids, truncated = tokenizer.encode(text)
    input_ids = torch.tensor([ids], dtype=torch.long)
    attention_mask = torch.ones_like(input_ids)
    with torch.inference_mode():
        probs = torch.softmax(model(input_ids, attention_mask), dim=-1)[0].tolist()
    best = max(range(len(probs)), key=probs.__getitem__)
    return {
        "label": LABELS[best],
        "score": probs[best],
        "scores": dict(zip(LABELS, probs)),
        "truncated": truncated,
    }


@app.get("/api/health")
def health():
    return jsonify({"status": "healthy", "message": "API is running"})


@app.post("/api/predict")
def predict():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "text" not in body:
        return error(400, "body must be a JSON object with a text")
    problem = check_text(body["text"], "text")
    if problem is not None:
        return problem
    return jsonify(predict_one(body["text"]))


@app.post("/api/predict/batch")
def predict_batch():
    body = request.get_json(silent=True)
    texts = body.get("texts") if isinstance(body, dict) else None
    if not isinstance(texts, list) or not texts:
        return error(400, "body must be a JSON object with a non-empty texts array")
    if len(texts) > MAX_CLIENT_BATCH:
        return error(413, f"at most {MAX_CLIENT_BATCH} texts")
    for i, text in enumerate(texts):
        problem = check_text(text, f"texts.{i}")
        if problem is not None:
            return problem
    return jsonify({"predictions": [predict_one(text) for text in texts]})
