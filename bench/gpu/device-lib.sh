# What the GPU device scripts share (sourced by run-on-device.sh and variants.sh, never run): unpacking the
# pack's runtime, the GPU's Vulkan libraries, the Python that generates the model, and starting and stopping
# the built service. The sourcing script sets RT, WORK, MODEL, PORT, DEVICE, NODE and SERVER_TUNING.

# bash -c "$UNPACK_RUNTIME" unpack ARCHIVE DIR: a string rather than a function, so that it runs under
# `timeout`. Python's lzma module stands in where the machine has no xz binary.
UNPACK_RUNTIME='if command -v xz > /dev/null; then xz -dc "$1" | tar -xf - -C "$2"; else
  python3 -c "import sys, tarfile; a = tarfile.open(sys.argv[1], \"r:xz\"); a.extractall(sys.argv[2], **({\"filter\": \"tar\"} if hasattr(tarfile, \"tar_filter\") else {}))" "$1" "$2"; fi'

# gpu_libraries PACK: unpacks the pack's .debs (the Vulkan loader, and glvnd, which NVIDIA's ICD is linked
# against) and points the loader at the NVIDIA ICD.
gpu_libraries() {
  local deb icd
  for deb in "$1"/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [[ -f $icd ]]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; fi
  done
  echo "Vulkan: $(ldconfig -p | grep -m1 libvulkan.so.1 || echo 'no libvulkan.so.1'); ICD ${VK_DRIVER_FILES:-not found}"
}

# The python3 with torch and onnx: the one on PATH, else Debian's.
bench_python() {
  if ! python3 -c 'import torch, onnx' > /dev/null 2>&1 && /usr/bin/python3 -c 'import torch, onnx' > /dev/null 2>&1; then
    echo /usr/bin/python3
  else
    echo python3
  fi
}

SERVER_PID=
start_server() {  # NAME ENV...: starts the built service on $MODEL in the background, logging to $WORK/server-NAME.log
  local name=$1
  shift
  (cd "$RT" && exec env MODEL_PATH="$MODEL" HOST=127.0.0.1 PORT="$PORT" DEVICE="$DEVICE" LOG_LEVEL=warn CACHE_SIZE=0 \
    "${SERVER_TUNING[@]}" "$@" "$NODE" dist/server/main.js) > "$WORK/server-$name.log" 2>&1 &
  SERVER_PID=$!
}
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}
