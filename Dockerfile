# Tweet sentiment inference service.
#
#   docker build -t tweet-sentiment-api .                      # CPU image (target runtime, the default)
#   docker build --target gpu -t tweet-sentiment-api:gpu .     # CUDA 12 + cuDNN 9 image, DEVICE=cuda
#
# Stages: build (dev dependencies, TypeScript -> dist/) · prod-deps (production dependencies only) ·
# prod-deps-gpu (plus ONNX Runtime's CUDA provider) · gpu · runtime. The last stage is the default target.
# Plain Dockerfile syntax (no BuildKit-only features), so docker-compose v1 and v2 both build it.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04

# ---- build: compile TypeScript ------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's install script downloads CUDA binaries: never on CPU builds. package.json's
# allowScripts denies it to npm 11; the image's npm 10 does not read allowScripts, so the variable says it.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY server ./server
COPY core ./core
COPY bulk ./bulk
COPY cli ./cli
COPY batching ./batching
COPY inference ./inference
# The quantize command (the CLI's `quantize`): its sources, its ONNX schema and the logit comparison it reports with.
COPY quantize ./quantize
COPY tools ./tools
RUN npm run build

# ---- prod-deps: production dependencies only (every native module ships prebuilt binaries) ------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
# onnxruntime-node ships binaries for every platform (~290 MB): keep this one's (~45 MB).
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && arch=$(node -p process.arch) \
 && for d in node_modules/onnxruntime-node/bin/napi-v6/*/*; do \
      [ "$d" = "node_modules/onnxruntime-node/bin/napi-v6/linux/$arch" ] || rm -rf "$d"; \
    done \
 && test -f "node_modules/onnxruntime-node/bin/napi-v6/linux/$arch/onnxruntime_binding.node"

# ---- prod-deps-gpu: add ONNX Runtime's CUDA 12 execution provider (downloaded at build time) ----------
FROM prod-deps AS prod-deps-gpu
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

# ---- gpu: CUDA 12 + cuDNN 9 runtime with Node.js 20 ---------------------------------------------------
FROM ${NODE_IMAGE} AS node-binary
FROM ${CUDA_IMAGE} AS gpu
# The official Node.js binary (built for glibc 2.28+) runs on Ubuntu 22.04 as is.
COPY --from=node-binary /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --no-create-home --shell /usr/sbin/nologin node
ENV NODE_ENV=production \
    MODEL_PATH=/app/models/twitter-sentiment \
    HOST=0.0.0.0 \
    PORT=5000 \
    DEVICE=cuda
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps-gpu /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The playground page at / (static files, read once at start).
COPY --from=build /app/server/playground ./server/playground
# The default model (override with MODEL_PATH and a mounted directory).
COPY models/twitter-sentiment ./models/twitter-sentiment
# Code and model stay owned by root: the service cannot change them.
USER 1000:1000
EXPOSE 5000
# No curl in the image: Node's own fetch. Start period covers loading and warming up the model.
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/api/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/server/main.js"]

# ---- runtime: the CPU image (default target) -----------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MODEL_PATH=/app/models/twitter-sentiment \
    HOST=0.0.0.0 \
    PORT=5000 \
    DEVICE=cpu
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The playground page at / (static files, read once at start).
COPY --from=build /app/server/playground ./server/playground
COPY models/twitter-sentiment ./models/twitter-sentiment
# uid 1000 is the image's `node` user.
USER 1000:1000
EXPOSE 5000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/api/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# node itself is PID 1 and handles SIGTERM (drains, exits 0); `npm start` would rebuild and not forward it.
CMD ["node", "dist/server/main.js"]
