#!/usr/bin/env bash
# Builds .dev/gpu/ (git-ignored), the one folder the GPU device run carries (`carry: [".dev/gpu"]`): the GPU
# machine has python3 with torch and transformers but no Node, no npm and no network. Run here, in the
# repository, after `npm install`:
#
#   bash bench/gpu/pack.sh
#
# .dev/gpu/
#   runtime.tar.xz     node (this machine's binary, stripped), dist/ (the built service), js/ (the device
#                      steps bundled with esbuild), node_modules/ (the service's production dependencies and
#                      autocannon, with onnxruntime-node's linux/x64 binaries only)
#   *.deb              the Vulkan loader, which the WebGPU provider (Dawn) needs, and glvnd, which the NVIDIA
#                      driver's ICD (on the machine) is linked against
#   tokenizer/         the Twitter RoBERTa tokenizer (data/ stays behind: see the travelling tree below)
#   texts.jsonl        the 2,000 TweetEval validation tweets (parity check, raw loop and load texts)
#   MANIFEST.json      what was packed, from which commit, and the sizes
# The device takes at most 64 MiB: .dev/gpu plus the part of the checkout that travels once it is narrowed
# to what the device reads (bench/gpu/travel.sh). Together they must leave 8 MiB of that to spare, for
# untracked files and growth: checked at the end (PACK_LIMIT_MIB, 56). Then, for the run:
#
#   bash bench/gpu/travel.sh narrow; run the device command; bash bench/gpu/travel.sh restore
#
# Compressing node and ONNX Runtime's library is most of the pack's time, and they change only with Node or
# onnxruntime-node: each is compressed once, into .dev/gpu-cache/ by its content,
# as a stream of its own. runtime.tar.xz is those streams and one of everything else, concatenated: xz,
# Python's lzma and tar read it as the one archive it is.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
PACK=.dev/gpu
CACHE=.dev/gpu-cache
DATA=$REPO/data
LIMIT_MIB=${PACK_LIMIT_MIB:-56}
NICE=${PACK_NICE:-nice -n 19}
# xz -2 rather than the default -6: on a 2-core machine the pack takes about a quarter of the time from a cold
# cache (node and ONNX Runtime's library are most of it) and is about 6 MiB larger, within the limit below.
# Should the pack outgrow the limit, a higher level (PACK_XZ_LEVEL=6) buys those MiB back for time.
XZ_LEVEL=${PACK_XZ_LEVEL:-2}

say() { echo "[pack] $*" >&2; }

[[ $(uname -m) == x86_64 ]] || { say "this packs x86-64 binaries for the device: run it on an x86-64 machine"; exit 1; }
[[ -d node_modules/onnxruntime-node/bin/napi-v6/linux/x64 ]] || { say "run npm install first"; exit 1; }

rm -rf "$PACK"
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/gpu-pack.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$PACK/tokenizer" "$STAGE/rt/js"

say "building the service (tsc)"
if ! $NICE npx tsc -p tsconfig.json > "$STAGE/tsc.log" 2>&1; then
  # tsc emits despite type errors. An error in what the device runs stops the pack; one elsewhere (a
  # benchmark or training file being edited) is only reported.
  grep -E '^(server|inference|batching|tools|bench/gpu|bench/(load|scrape|tweets|validate))' "$STAGE/tsc.log" >&2 && { say "type errors in code the device runs"; exit 1; }
  say "warning: tsc reported errors outside the device's code:"; grep -E 'error TS' "$STAGE/tsc.log" >&2 || cat "$STAGE/tsc.log" >&2
fi
[[ -f dist/server/main.js ]] || { say "dist/server/main.js was not built"; exit 1; }
mkdir -p "$STAGE/rt/dist"
(cd dist && tar -cf - --exclude='*.map' --exclude='./test' .) | tar -xf - -C "$STAGE/rt/dist"
# What the built service reads beside dist/ at start: the playground page (from the project root, dist/..)
# and package.json (its name and version in /api/model and the metrics).
mkdir -p "$STAGE/rt/server"
cp -r server/playground "$STAGE/rt/server/"
cp package.json "$STAGE/rt/"

say "bundling the device steps (esbuild)"
$NICE npx esbuild tools/compare-logits.ts bench/gpu/ort-loop.ts bench/gpu/service-load.ts bench/gpu/gpu-report.ts \
  --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --external:onnxruntime-node --external:onnxruntime-common --external:autocannon --external:@huggingface/tokenizers \
  --entry-names='[name]' --out-extension:.js=.mjs --outdir="$STAGE/rt/js" \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"

say "staging node_modules (production dependencies + autocannon)"
npx tsx bench/gpu/closure.ts --root . --extra autocannon --stage "$STAGE/rt" > "$STAGE/packages.txt"
say "  $(wc -l < "$STAGE/packages.txt") packages"

# The project's own Node (the node dev dependency, the version engines names), else the one on PATH.
NODE_BIN=$(readlink -f node_modules/.bin/node 2>/dev/null || command -v node)
say "node binary ($("$NODE_BIN" --version))"
if command -v strip > /dev/null; then strip -o "$STAGE/rt/node" "$NODE_BIN"; else cp "$NODE_BIN" "$STAGE/rt/node"; fi
chmod +x "$STAGE/rt/node"

say "compressing (xz)"
mkdir -p "$CACHE"
# One tar stream, cut at member boundaries: each big binary alone, 512-byte records and its end-of-archive
# blocks (1,024 zero bytes) cut off, then everything else, which ends the archive.
TAR=(tar --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -b1)
used=()
for member in node node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1; do
  (cd "$STAGE/rt" && "${TAR[@]}" -cf - "$member") | head -c -1024 > "$STAGE/segment"
  cached="$CACHE/$(sha256sum "$STAGE/segment" | cut -c1-64)-$XZ_LEVEL.xz"
  if [[ ! -f $cached ]]; then
    $NICE xz -T2 "-$XZ_LEVEL" -c "$STAGE/segment" > "$cached.tmp" && mv "$cached.tmp" "$cached"
  else
    say "  $member: cached"
  fi
  cat "$cached" >> "$PACK/runtime.tar.xz"
  used+=("$cached")
  rm "$STAGE/rt/$member"
done
# Streams of an older node or ONNX Runtime are not kept.
for stale in "$CACHE"/*.xz; do
  [[ " ${used[*]} " == *" $stale "* ]] || rm -f "$stale"
done
(cd "$STAGE/rt" && "${TAR[@]}" -cf - .) | $NICE xz -T2 "-$XZ_LEVEL" >> "$PACK/runtime.tar.xz"

# The Vulkan loader, and the GL dispatch libraries (glvnd) that the NVIDIA driver's Vulkan ICD,
# libGLX_nvidia.so.0, is linked against: without them the loader finds "no drivers" (seen on the device).
say "Vulkan loader and glvnd"
GL_PACKAGES=(libvulkan1 libglvnd0 libegl1 libopengl0 libgl1 libglx0 libgles2)
for package in "${GL_PACKAGES[@]}"; do
  if ! ls "$CACHE/${package}"_*_amd64.deb > /dev/null 2>&1; then
    (cd "$CACHE" && apt-get download "$package" > /dev/null 2>&1) || {
      # The device README's way, for an apt whose default architecture is not amd64.
      mkdir -p /tmp/amd64/partial
      o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
      apt-get $o update > /dev/null && (cd "$CACHE" && apt-get $o download "$package" > /dev/null)
    }
  fi
  cp "$CACHE/${package}"_*_amd64.deb "$PACK/"
done

cp "$DATA/hf-tokenizers/twitter-roberta/tokenizer.json" "$DATA/hf-tokenizers/twitter-roberta/tokenizer_config.json" "$PACK/tokenizer/"
cp "$DATA/tweeteval-sentiment/validation.jsonl" "$PACK/texts.jsonl"

pack_bytes=$(du -sb "$PACK" | cut -f1)
tree_bytes=$(bash bench/gpu/travel.sh bytes)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
cat > "$PACK/MANIFEST.json" <<EOF
{
  "created": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "git": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo -dirty)",
  "node": "$("$NODE_BIN" --version)",
  "onnxruntime_node": "$(node -p "require('./node_modules/onnxruntime-node/package.json').version")",
  "packages": $(wc -l < "$STAGE/packages.txt"),
  "runtime_tar_xz_bytes": $(stat -c %s "$PACK/runtime.tar.xz"),
  "pack_bytes": $pack_bytes,
  "travelling_tree_bytes": $tree_bytes
}
EOF
say "$PACK: $(mib "$pack_bytes") MiB; travelling tree $(mib "$tree_bytes") MiB; together $(mib $((pack_bytes + tree_bytes))) MiB (limit ${LIMIT_MIB})"
if (( pack_bytes + tree_bytes > LIMIT_MIB * 1048576 )); then
  say "over ${LIMIT_MIB} MiB, the device's 64 MiB less 8 to spare: shrink the pack or what travels (bash bench/gpu/travel.sh list)"
  exit 1
fi
say "ready: bash bench/gpu/travel.sh narrow; then run(command=\"bash bench/gpu/run-on-device.sh\", carry=[\".dev/gpu\"], timeout_s=570); then bash bench/gpu/travel.sh restore"
