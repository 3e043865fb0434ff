#!/usr/bin/env bash
# The GPU benchmark, prepared to run as is on a GPU machine (one NVIDIA GPU, python3 with torch and
# transformers; Node, npm and network not needed). Pack first, on any x86-64 machine with Node:
# `bash bench/gpu/pack.sh`. Then, on the GPU machine, with .dev/gpu/ beside the repository's files:
#
#   OUT=/some/dir bash bench/gpu/run-on-device.sh
#
# and commit the gpu-<device>-<date>.json and .md it leaves in $OUT to bench/results/. It:
#   1. unpacks .dev/gpu/runtime.tar.xz (node, the built service, node_modules, the bundled steps) to /tmp,
#      unpacks the Vulkan loader, ldconfig, points VK_DRIVER_FILES at the NVIDIA ICD, checks that ONNX
#      Runtime's WebGPU provider starts (a tiny model); if it does not, the GPU steps are skipped
#   2. generates the RoBERTa-base-sized model (tools/make-bench-model.py, transformers' implementation,
#      checked against the builtin one) and model_fp16.onnx (tools/convert-fp16.py)
#   3. raw ONNX Runtime loop, fp16: fixed length 64 at batch 1, 128, 256 and validation tweets at batch 128
#   4. the service, DEVICE=webgpu, fp16 (its GPU defaults): autocannon at 1, 100, 500 connections
#   5. the service with batching off (MAX_BATCH_SIZE=1) at 500 connections
#   6. fp16 parity against fp32 on the GPU (tools/compare-logits.ts, 256 tweets, padding check)
#   7. raw loop fp32 (batch 1, 128, tweets 128); the service fp32 at 500 connections
#   8. DEVICE=cuda probe (the npm build has no CUDA provider: records the start-up message)
#   9. the report: $OUT/gpu-<device>-<date>.json + .md, run.log, details.tar.gz (every step's output)
# Steps run in order of importance; a step that fails is recorded and the rest go on; no step starts after
# BUDGET_S seconds (default 420), so the report is written well inside the command's limit. Expected
# runtime on an H100/H200: about 5 to 6 minutes (plus the machine's start).
#
#   bash bench/gpu/run-on-device.sh --dry-run    the same script here, on the CPU, with a tiny model
#                                                (DEVICE=cpu, short loads; output in bench/work/gpu-dry/out)
# Knobs (environment): BENCH_DEVICE (webgpu; cuda needs a pack built with the CUDA provider), LOAD_S (10 s per
# autocannon level), ORT_S (4 s per raw-loop run), PARITY_N (256), BUDGET_S (420), HARD_S (530), BENCH_PORT.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PACK=${GPU_PACK:-$REPO/.dev/gpu}
# shellcheck source=device-lib.sh
source "$REPO/bench/gpu/device-lib.sh"
DRY=0
[[ ${1:-} == --dry-run ]] && DRY=1
STARTED=$(date +%s)

if (( DRY )); then
  renice -n 19 $$ > /dev/null 2>&1 || true
  BASE=$REPO/bench/work/gpu-dry
  RT=$BASE/rt
  WORK=$BASE/work
  OUT=${OUT:-$BASE/out}
  DEVICE=${BENCH_DEVICE:-cpu}
  LOAD_S=${LOAD_S:-3}
  ORT_S=${ORT_S:-1}
  PARITY_N=${PARITY_N:-64}
  THREADS=1
  BUDGET_S=${BUDGET_S:-900}
  HARD_S=${HARD_S:-1200}
  SERVER_TUNING=(WORKERS=1 INTRA_OP_THREADS=1 MAX_BATCH_SIZE=128 MAX_BATCH_TOKENS=65536 MAX_BATCH_WAIT_MS=2)
else
  BASE=/tmp/sentiment-gpu
  RT=$BASE/rt
  WORK=$BASE/work
  OUT=${OUT:-$REPO/bench/work/gpu-out}
  DEVICE=${BENCH_DEVICE:-webgpu}
  LOAD_S=${LOAD_S:-10}
  ORT_S=${ORT_S:-4}
  PARITY_N=${PARITY_N:-256}
  THREADS=$(nproc)
  BUDGET_S=${BUDGET_S:-420}
  HARD_S=${HARD_S:-530}  # run it with timeout_s ≥ 560
  SERVER_TUNING=()  # the service's own GPU defaults are what is measured
fi
RES=$WORK/results
MODEL=$WORK/roberta-base-random
NODE=$RT/node
PORT=${BENCH_PORT:-5055}
URL=http://127.0.0.1:$PORT
TEXTS=$PACK/texts.jsonl

if [[ ! -f $PACK/runtime.tar.xz ]]; then
  echo "!! $PACK/runtime.tar.xz is missing: run bash bench/gpu/pack.sh here first, and carry .dev/gpu" >&2
  exit 1
fi
rm -rf "$WORK" "$RT"
mkdir -p "$RES" "$RT" "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
echo "== run-on-device.sh $( ((DRY)) && echo --dry-run) $(date -u +%Y-%m-%dT%H:%M:%SZ) device=$DEVICE out=$OUT"

elapsed() { echo $(( $(date +%s) - STARTED )); }
# step NAME TIMEOUT_S COMMAND...: runs it, records its exit status and seconds in steps.jsonl.
step() {
  local name=$1 limit=$2
  shift 2
  local t0 rc left
  # Never past HARD_S: the report still has to be written inside the command's limit.
  left=$(( HARD_S - $(elapsed) ))
  (( limit > left )) && limit=$left
  if (( limit < 5 )); then
    echo "!! skipping $name: no time left" >&2
    printf '{"name":"%s","rc":-1,"seconds":0}\n' "$name (skipped: time)" >> "$RES/steps.jsonl"
    return 124
  fi
  t0=$(date +%s%N)
  echo "== [$(elapsed) s] $name (limit ${limit} s)" >&2
  timeout --kill-after=5 "$limit" "$@"
  rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '{"name":"%s","rc":%d,"seconds":%d.%03d}\n' "$name" "$rc" $((ms / 1000)) $((ms % 1000)) >> "$RES/steps.jsonl"
  (( rc == 0 )) || echo "!! $name failed (exit $rc)" >&2
  return $rc
}
# A step that starts only while time is left.
in_budget() {
  if (( $(elapsed) >= BUDGET_S )); then
    echo "!! skipping $1: ${BUDGET_S} s budget spent" >&2
    printf '{"name":"%s","rc":-1,"seconds":0}\n' "$1 (skipped: budget)" >> "$RES/steps.jsonl"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------- setup
step unpack 120 bash -c "$UNPACK_RUNTIME" unpack "$PACK/runtime.tar.xz" "$RT" || exit 1
PYTHON=$(bench_python)

if (( DRY )); then
  DEVICE_NAME=cpu-dryrun
  GPU_NAME=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  DRIVER=
else
  gpu_libraries "$PACK"
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
  DEVICE_NAME=$(echo "${GPU_NAME:-gpu}" | tr 'A-Z' 'a-z' | awk '{print $1 "-" $2}')
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv 2>/dev/null || true
fi

GPU_NAME="$GPU_NAME" DRIVER="$DRIVER" DEVICE_NAME="$DEVICE_NAME" PROVIDER="$DEVICE" DRY="$DRY" \
GIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)" MANIFEST="$PACK/MANIFEST.json" \
PY="$PYTHON" "$NODE" -e '
const e = process.env;
// The pack'\''s commit is the code that runs (dist/ and the bundled steps); the checkout'\''s HEAD, copied to the
// device, can be an older commit.
let git = null;
try { git = JSON.parse(require("node:fs").readFileSync(e.MANIFEST, "utf8")).git; } catch {}
git = git || e.GIT || null;
const ort = require(process.argv[1] + "/node_modules/onnxruntime-node/package.json").version;
let python = null;
try { python = require("node:child_process").execFileSync(e.PY, ["-c", "import sys, torch, onnx; print(sys.version.split()[0], torch.__version__, onnx.__version__)"], { encoding: "utf8" }).trim(); } catch {}
console.log(JSON.stringify({ deviceName: e.DEVICE_NAME, gpu: e.GPU_NAME || "unknown", driver: e.DRIVER || null, provider: e.PROVIDER,
  dryRun: e.DRY === "1", date: new Date().toISOString().slice(0, 10), git, node: process.version, onnxruntime: ort,
  python, cpus: require("node:os").availableParallelism(), vkDriverFiles: e.VK_DRIVER_FILES || null }));
' "$RT" > "$RES/env.json"
cat "$RES/env.json"

GPU_OK=1
step preflight 120 "$NODE" "$RT/js/ort-loop.mjs" --model "$REPO/test/fixtures/bert-tiny" --device "$DEVICE" \
  --threads "$THREADS" --seconds 0.2 --batches 1 --warmup-runs 1 > "$RES/preflight.json" || GPU_OK=0
if (( ! GPU_OK )); then echo "!! the $DEVICE provider did not start: skipping every step that needs it"; fi

# ---------------------------------------------------------------------------------------------- model
MODEL_ARGS=(--out "$MODEL" --tokenizer "$PACK/tokenizer")
if (( DRY )); then
  MODEL_ARGS+=(--tiny)
elif $PYTHON -c 'import transformers' > /dev/null 2>&1; then
  MODEL_ARGS+=(--verify)
fi
if (( GPU_OK )); then
  if ! step model 300 $PYTHON "$REPO/tools/make-bench-model.py" "${MODEL_ARGS[@]}" > "$RES/model.json"; then
    if (( DRY )); then  # no torch here: the committed fixture has the same contract
      cp -r "$REPO/test/fixtures/roberta-tiny" "$MODEL" && echo '{"implementation":"fixture roberta-tiny"}' > "$RES/model.json"
    else
      GPU_OK=0
    fi
  fi
fi
HAVE_FP16=0
if (( GPU_OK )) && step fp16 240 $PYTHON "$REPO/tools/convert-fp16.py" "$MODEL" --compare 0 > "$RES/fp16.json"; then HAVE_FP16=1; fi
MAIN_PRECISION=$( ((HAVE_FP16)) && echo fp16 || echo fp32)
ls -la "$MODEL" 2>/dev/null

# ---------------------------------------------------------------------------------------------- service
trap stop_server EXIT
# service_run NAME CONNECTIONS ENV...: one service configuration under autocannon → $RES/service-NAME.json
service_run() {
  local name=$1 connections=$2
  shift 2
  start_server "$name" "$@"
  step "service-$name" 240 "$NODE" "$RT/js/service-load.mjs" --url "$URL" --label "$name" --connections "$connections" \
    --seconds "$LOAD_S" --warmup-seconds 2 --texts "$TEXTS" --ready-timeout 180 > "$RES/service-$name.json"
  local rc=$?
  stop_server
  echo "-- server log ($name):"; tail -5 "$WORK/server-$name.log"
  return $rc
}
ort_run() {  # PRECISION FILE BATCHES
  step "ort-$1" 180 "$NODE" "$RT/js/ort-loop.mjs" --model "$MODEL/$2" --device "$DEVICE" --threads "$THREADS" \
    --seconds "$ORT_S" --seq 64 --batches "$3" --texts "$TEXTS" --n 2048 --text-batch 128 > "$RES/ort-$1.json"
}

if (( GPU_OK )); then
  if (( HAVE_FP16 )) && in_budget ort-fp16 && ! ort_run fp16 model_fp16.onnx 1,128,256; then
    # The provider cannot run this fp16 model (e.g. an adapter without shader-f16): measure fp32 instead.
    echo "!! fp16 does not run on $DEVICE: the service is measured in fp32" >&2
    HAVE_FP16=0
    MAIN_PRECISION=fp32
  fi
  in_budget "service-$MAIN_PRECISION" && service_run "$MAIN_PRECISION" 1,100,500 MODEL_PRECISION="$MAIN_PRECISION"
  in_budget service-batching-off && service_run batching-off 500 MODEL_PRECISION="$MAIN_PRECISION" MAX_BATCH_SIZE=1
  if (( HAVE_FP16 )) && in_budget parity; then
    step parity 180 "$NODE" "$RT/js/compare-logits.mjs" --a "$MODEL" --device "$DEVICE" --threads "$THREADS" \
      --texts "$TEXTS" --n "$PARITY_N" --batch 32 --padding-check 16 --json > "$RES/parity.json"
  fi
  in_budget ort-fp32 && ort_run fp32 model.onnx 1,128
  if (( HAVE_FP16 )) && in_budget service-fp32; then service_run fp32 500 MODEL_PRECISION=fp32; fi
fi
if in_budget cuda-probe; then
  echo "== [$(elapsed) s] cuda-probe"
  (cd "$RT" && timeout 60 env MODEL_PATH="$REPO/test/fixtures/bert-tiny" DEVICE=cuda PORT="$PORT" HOST=127.0.0.1 LOG_LEVEL=warn \
    "$NODE" dist/server/main.js > "$WORK/server-cuda-probe.log" 2>&1 & pid=$!; \
    for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.3; done; kill -TERM $pid 2>/dev/null; wait $pid; echo "exit $?" >> "$WORK/server-cuda-probe.log")
  "$NODE" -e 'const fs = require("node:fs"); const log = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
    console.log(JSON.stringify({ message: log.filter((l) => l.trim() !== "").slice(-2).join(" | ").slice(0, 500) }))' \
    "$WORK/server-cuda-probe.log" > "$RES/cuda-probe.json"
  cat "$RES/cuda-probe.json"
fi

# ---------------------------------------------------------------------------------------------- report
echo "== [$(elapsed) s] report"
"$NODE" "$RT/js/gpu-report.mjs" --results "$RES" --out "$OUT"
tar -czf "$OUT/details.tar.gz" -C "$WORK" results $(cd "$WORK" && ls server-*.log 2>/dev/null)
echo "== done in $(elapsed) s: $(ls "$OUT" | tr '\n' ' ')"
sleep 0.5  # let tee finish the log
