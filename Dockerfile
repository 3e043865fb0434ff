# Tweet sentiment inference service: the CPU image.
#
#   docker build -t tweet-sentiment-api .                                    # this file
#   docker build -f Dockerfile.gpu -t tweet-sentiment-api:gpu .              # CUDA 12 + cuDNN 9 image, DEVICE=cuda
#
# Stages: build (all dependencies, TypeScript -> dist/) · prod-deps (the same tree without dev dependencies) ·
# runtime (the image). No GPU stage: the GPU image has its own file, because the classic builder (what
# docker-compose v1 uses) runs every stage of a Dockerfile up to the one it builds, so a GPU stage here would
# pull the CUDA base and download the CUDA provider on every CPU build. Plain Dockerfile syntax (no
# BuildKit-only features): docker-compose v1 and v2, `docker build` with or without BuildKit all build it.
#
# An npm registry mirror, and the CA that signs it (or a TLS-inspecting proxy), as PEM text; both optional,
# and unset they change nothing:
#   docker build --build-arg NPM_REGISTRY=https://npm.example.internal/ --build-arg NPM_CA_CERT="$(cat ca.pem)" .

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript ------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ARG NPM_REGISTRY
ARG NPM_CA_CERT
COPY package.json package-lock.json ./
# No install script runs (package.json's allowScripts is for npm 11; the image's npm 10 does not read it):
# onnxruntime-node's would download CUDA binaries (Dockerfile.gpu runs it on purpose), the `node` dev
# dependency's a second Node; nothing the image needs has one. That dependency's link in node_modules/.bin
# then points at nothing: it goes, so that npm scripts run on the image's node. The CA is added to what Node
# already trusts (its own roots, and the base image's NODE_EXTRA_CA_CERTS), for this step only: it is not
# left in the image. onnxruntime-node ships binaries for every platform (~290 MB): only this one's (~45 MB)
# are kept.
RUN if [ -n "$NPM_CA_CERT" ]; then \
      { cat "${NODE_EXTRA_CA_CERTS:-/dev/null}" 2>/dev/null; printf '%s\n' "$NPM_CA_CERT"; } >/tmp/npm-ca.pem; \
      export NODE_EXTRA_CA_CERTS=/tmp/npm-ca.pem; \
    fi \
 && npm ci --ignore-scripts --no-audit --no-fund ${NPM_REGISTRY:+--registry="$NPM_REGISTRY"} \
 && rm -f /tmp/npm-ca.pem node_modules/.bin/node \
 && ort=node_modules/onnxruntime-node/bin/napi-v6 platform="linux/$(node -p process.arch)" \
 && for d in "$ort"/*/*; do [ "$d" = "$ort/$platform" ] || rm -rf "$d"; done \
 && test -f "$ort/$platform/onnxruntime_binding.node"
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
# Pruned from the build stage's tree rather than installed again: one download of the packages per build.
FROM build AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime: the CPU image ----------------------------------------------------------------------------
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
# The default model (override with MODEL_PATH and a mounted directory).
COPY models/twitter-sentiment ./models/twitter-sentiment
# Code and model stay owned by root: the service cannot change them. uid 1000 is the image's `node` user.
USER 1000:1000
EXPOSE 5000
# No curl in the image: Node's own fetch. Start period covers loading and warming up the model.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/api/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# node itself is PID 1 and handles SIGTERM (drains, exits 0); `npm start` would rebuild and not forward it.
CMD ["node", "dist/server/main.js"]
