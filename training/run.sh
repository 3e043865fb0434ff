#!/usr/bin/env bash
# Rebuilds models/twitter-sentiment/ from the TweetEval data: `npm run train` (or bash training/run.sh).
#
#   npm run train                                  # data from data/tweeteval-sentiment
#   npm run train -- --data /path/to/tweeteval-sentiment
#   npm run train -- --out /tmp/model              # write the model somewhere else
#
# Needs Debian's python3-torch, python3-onnx and python3-numpy (/usr/bin/python3), and node_modules.
# Intermediate files go to training/work/ (git-ignored). Prints the validation macro recall last.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA="data/tweeteval-sentiment"
OUT="models/twitter-sentiment"
WORK="training/work"
PYTHON="${PYTHON:-/usr/bin/python3}"
THREADS="${TRAIN_THREADS:-2}"
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA="$2"; shift 2 ;;
    --data=*) DATA="${1#*=}"; shift ;;
    --out) OUT="$2"; shift 2 ;;
    --out=*) OUT="${1#*=}"; shift ;;
    --work) WORK="$2"; shift 2 ;;
    --work=*) WORK="${1#*=}"; shift ;;
    *) echo "unknown argument: $1 (expected --data DIR, --out DIR, --work DIR)" >&2; exit 2 ;;
  esac
done
# The repository commits the training split compressed; `npm run data` writes it plain from the source.
if [ ! -f "$DATA/train.jsonl" ] && [ -f "$DATA/train.jsonl.gz" ]; then
  gunzip -c "$DATA/train.jsonl.gz" > "$DATA/train.jsonl.tmp" && mv "$DATA/train.jsonl.tmp" "$DATA/train.jsonl"
fi
for f in train.jsonl validation.jsonl; do
  [ -f "$DATA/$f" ] || { echo "missing $DATA/$f: pass --data DIR holding TweetEval sentiment train.jsonl and validation.jsonl" >&2; exit 2; }
done
"$PYTHON" -c 'import torch, onnx, numpy' || { echo "need $PYTHON with torch, onnx and numpy (apt-get install -y python3-torch python3-onnx)" >&2; exit 2; }
mkdir -p "$WORK" "$OUT"
export PYTHONHASHSEED=0 OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"
START=$(date +%s)

echo "== 1/5 tokenizer: WordPiece learned from $DATA/train.jsonl"
"$PYTHON" training/build_tokenizer.py --data "$DATA" --out "$OUT"

echo "== 2/5 token ids through the server's tokenizer (inference/tokenizer.ts)"
npx --no-install tsx training/tokenize-data.ts --model "$OUT" --data "$DATA" --out "$WORK"

echo "== 3/5 Python tokenizer parity on every tweet"
"$PYTHON" training/check_parity.py --model "$OUT" --work "$WORK" | tee "$WORK/parity.json"

echo "== 4/5 training (torch threads: $THREADS)"
"$PYTHON" training/train.py --work "$WORK" --out "$OUT" --threads "$THREADS" 2>&1 | grep --line-buffered -v -E "UserWarning|warnings.warn|_C._jit_pass"

echo "== 5/5 ONNX Runtime (Node) against PyTorch, whole validation set"
npx --no-install tsx training/verify-onnx.ts --model "$OUT" --data "$DATA" | tee "$WORK/verify-onnx.txt"

END=$(date +%s)
echo "total wall time: $(( (END - START) / 60 )) min $(( (END - START) % 60 )) s"
tail -n 1 "$WORK/verify-onnx.txt"
