#!/usr/bin/env bash
# Service settings compared on one GPU in one short call: the benchmark model in fp16, the raw ONNX Runtime
# loop on validation tweets at batch 128 (the ceiling), then the service at 500 connections once per variant,
# each a set of environment settings on top of its GPU defaults. It answers questions that the full run
# (run-on-device.sh) raises, such as whether a second worker hides the tokenizing that one worker does
# between its GPU runs, at a third of that run's device time. Pack first (bench/gpu/pack.sh), carry .dev/gpu:
#
#   OUT=/some/dir bash bench/gpu/variants.sh 'default:' 'workers2:WORKERS=2' 'threads1:INTRA_OP_THREADS=1'
#   bash bench/gpu/variants.sh --dry-run 'default:' 'workers2:WORKERS=2'     (here, on the CPU, a tiny model)
#
# Each argument is NAME:KEY=VALUE,KEY=VALUE (nothing after the colon: the defaults). Writes to $OUT:
# variants.json (the raw loop and every variant's load result, as service-load.ts reports it), variants.md
# (a table: texts/s, ÷ raw, p50/p99, mean batch, tokenizing and inference ms per batch), variants.log.
# Knobs: LOAD_S (8), BENCH_PORT (5056).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PACK=${GPU_PACK:-$REPO/.dev/gpu}
# shellcheck source=device-lib.sh
source "$REPO/bench/gpu/device-lib.sh"
DRY=0
[[ ${1:-} == --dry-run ]] && { DRY=1; shift; }
(( $# > 0 )) || { echo "usage: bash bench/gpu/variants.sh [--dry-run] NAME:KEY=VALUE,... ..." >&2; exit 2; }
[[ -f $PACK/runtime.tar.xz ]] || { echo "!! $PACK/runtime.tar.xz is missing: run bash bench/gpu/pack.sh first" >&2; exit 1; }

if (( DRY )); then
  BASE=$REPO/bench/work/gpu-variants-dry DEVICE=cpu OUT=${OUT:-$BASE/out} LOAD_S=${LOAD_S:-3}
  SERVER_TUNING=(WORKERS=1 INTRA_OP_THREADS=1 MAX_BATCH_SIZE=128 MAX_BATCH_TOKENS=65536 MAX_BATCH_WAIT_MS=2)
else
  BASE=/tmp/sentiment-gpu-variants DEVICE=webgpu OUT=${OUT:-$REPO/bench/work/gpu-variants} LOAD_S=${LOAD_S:-8}
  SERVER_TUNING=()
fi
RT=$BASE/rt WORK=$BASE/work
MODEL=$WORK/model NODE=$RT/node PORT=${BENCH_PORT:-5056} TEXTS=$PACK/texts.jsonl
rm -rf "$RT" "$WORK"
mkdir -p "$RT" "$WORK" "$OUT"
exec > >(tee "$OUT/variants.log") 2>&1
STARTED=$(date +%s)
say() { echo "== [$(( $(date +%s) - STARTED )) s] $*"; }

say "unpack"
bash -c "$UNPACK_RUNTIME" unpack "$PACK/runtime.tar.xz" "$RT" || exit 1
if (( ! DRY )); then
  gpu_libraries "$PACK"
  DEVICE_LABEL="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1), $DEVICE"
else
  DEVICE_LABEL="dry run on the CPU, tiny model: proves the script, the numbers mean nothing"
fi
export DEVICE_LABEL
echo "$DEVICE_LABEL"

say "model"
PYTHON=$(bench_python)
if (( DRY )); then
  $PYTHON "$REPO/tools/make-bench-model.py" --out "$MODEL" --tokenizer "$PACK/tokenizer" --tiny > /dev/null \
    || cp -r "$REPO/test/fixtures/roberta-tiny" "$MODEL"
else
  $PYTHON "$REPO/tools/make-bench-model.py" --out "$MODEL" --tokenizer "$PACK/tokenizer" > /dev/null || exit 1
fi
$PYTHON "$REPO/tools/convert-fp16.py" "$MODEL" --compare 0 > /dev/null || exit 1

say "raw loop: fp16, validation tweets, batch 128"
"$NODE" "$RT/js/ort-loop.mjs" --model "$MODEL/model_fp16.onnx" --device "$DEVICE" --threads "$(nproc)" --seconds 4 \
  --seq 64 --batches 128 --texts "$TEXTS" --n 2048 --text-batch 128 > "$WORK/raw.json" || exit 1

trap stop_server EXIT
for variant in "$@"; do
  name=${variant%%:*} settings=${variant#*:}
  IFS=, read -r -a env_settings <<< "$settings"
  say "service $name (${settings:-defaults}), 500 connections"
  start_server "$name" MODEL_DTYPE=fp16 "${env_settings[@]}"
  timeout 120 "$NODE" "$RT/js/service-load.mjs" --url "http://127.0.0.1:$PORT" --label "$name" --connections 500 \
    --seconds "$LOAD_S" --warmup-seconds 2 --texts "$TEXTS" --ready-timeout 90 > "$WORK/service-$name.json" \
    || { echo "!! $name failed:"; tail -3 "$WORK/server-$name.log"; }
  stop_server
done

say "report"
"$NODE" - "$WORK" "$OUT" "$@" <<'EOF'
const fs = require('node:fs');
const [work, out, ...variants] = process.argv.slice(2);
const read = (file) => { try { return JSON.parse(fs.readFileSync(`${work}/${file}`, 'utf8')); } catch { return null; } };
const raw = read('raw.json');
const rawRate = raw?.runs?.find((run) => run.kind === 'tweets')?.seqPerSec ?? null;
const results = variants.map((variant) => {
  const [name, settings] = [variant.slice(0, variant.indexOf(':')), variant.slice(variant.indexOf(':') + 1)];
  return { name, settings, load: read(`service-${name}.json`) };
});
const fmt = (value, digits = 1) => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–');
const lines = [
  `# Service variants at 500 connections (${process.env.DEVICE_LABEL ?? ''})`.replace(' ()', ''), '',
  `Raw ONNX Runtime, fp16, validation tweets at batch 128: ${fmt(rawRate)} seq/s.`, '',
  '| variant | settings | texts/s | ÷ raw | p50 ms | p99 ms | non-2xx + errors | mean batch | tokenizing ms per batch | batch ms (tokenizing + runs) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const { name, settings, load } of results) {
  const level = load?.levels?.[0];
  if (!level) { lines.push(`| ${name} | ${settings || 'defaults'} | failed | | | | | | | |`); continue; }
  const s = level.server ?? {};
  lines.push(`| ${name} | ${settings || 'defaults'} | ${fmt(level.okPerSecond)} | ${rawRate ? fmt(level.okPerSecond / rawRate, 3) : '–'} | ${level.latency.p50} | ${level.latency.p99} | ${level.non2xx + level.errors} | ${fmt(s.meanBatchSize)} | ${fmt(s.meanTokenizeMs)} | ${fmt(s.meanInferenceMs)} |`);
}
fs.writeFileSync(`${out}/variants.md`, lines.join('\n') + '\n');
fs.writeFileSync(`${out}/variants.json`, JSON.stringify({ raw, variants: results }, null, 2));
console.log(lines.join('\n'));
EOF
say "done"
sleep 0.3
