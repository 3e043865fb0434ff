#!/usr/bin/env bash
# What of the checkout travels to the GPU machine with .dev/gpu/, and narrowing the checkout to it. Where only a
# limited size may travel (a copy of the working tree, tracked files and untracked files git does not ignore),
# the device run needs no more of the tree than run-on-device.sh reads: that script, tools/ (the model
# generator, the fp16 converter) and test/fixtures/bert-tiny (the provider preflight). The seed's checkpoint,
# the shipped model, the other fixtures, data/ and bench/results/ stay behind; the pack brings the rest.
#
#   bash bench/gpu/travel.sh list      the files that travel after `narrow` (whether narrowed now or not)
#   bash bench/gpu/travel.sh bytes     their total size in bytes
#   bash bench/gpu/travel.sh narrow    a sparse checkout of only those folders (git sparse-checkout, cone mode)
#   bash bench/gpu/travel.sh restore   the whole checkout again
#
# Cone mode keeps every file at the top level and directly inside each parent of a kept folder (bench/*,
# test/*, test/fixtures/*), and untracked files stay where they are: `list` counts all of them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

FOLDERS=(bench/gpu tools test/fixtures/bert-tiny)

# Whether a path is in the cone of FOLDERS: at the top level, directly inside a parent of a kept folder, or
# anywhere under a kept folder.
in_cone() {
  local path=$1 dir=${1%/*} folder parent
  [[ $path != */* ]] && return 0
  for folder in "${FOLDERS[@]}"; do
    [[ $path == "$folder"/* ]] && return 0
    parent=$folder
    while [[ $parent == */* ]]; do
      parent=${parent%/*}
      [[ $dir == "$parent" ]] && return 0
    done
  done
  return 1
}

list() {
  local path
  # Tracked files in the cone, and untracked files that are not ignored, wherever they are.
  git ls-files -z --cached | while IFS= read -r -d '' path; do
    if in_cone "$path"; then printf '%s\n' "$path"; fi
  done
  git ls-files -z --others --exclude-standard | tr '\0' '\n'
}

case ${1:-} in
  list) list | sort -u ;;
  bytes)
    # A file listed but absent (deleted, not yet committed) does not travel.
    list | sort -u | while IFS= read -r path; do [[ -f $path ]] && printf '%s\0' "$path"; done \
      | du -cb --files0-from=- | tail -1 | cut -f1 ;;
  narrow)
    git sparse-checkout set --cone "${FOLDERS[@]}"
    echo "narrowed to ${FOLDERS[*]} (and the files beside them); 'bash bench/gpu/travel.sh restore' brings the rest back" >&2 ;;
  restore) git sparse-checkout disable ;;
  *)
    echo "usage: bash bench/gpu/travel.sh list|bytes|narrow|restore" >&2
    exit 2 ;;
esac
