#!/usr/bin/env bash
# Restarts the replicas of one compose service (default: api) one at a time, each after the previous one is
# healthy again, so the others keep serving: NGINX retries a request that hits a stopping replica on
# another one, and a stopping replica answers every request it accepted before exiting (SIGTERM drains).
# Used for model updates: a replica loads its model when it starts (deploy/README.md, "Model update").
#
#   deploy/rolling-restart.sh            # api
#   deploy/rolling-restart.sh api-gpu
#   COMPOSE="docker compose" deploy/rolling-restart.sh
#   HEALTH_TIMEOUT_S=180 (how long one replica may take to be healthy), SETTLE_S=5 (the pause between replicas)
set -euo pipefail

service=${1:-api}
compose=${COMPOSE:-docker-compose}
timeout_s=${HEALTH_TIMEOUT_S:-180}
# NGINX keeps a replica out of rotation for its fail_timeout (5 s, nginx.conf) after the last failed attempt,
# which can come just before the replica was ready: the next replica goes only after that long, so that NGINX
# always has one in rotation. A shorter API_HEALTH_INTERVAL would otherwise take both out at once.
settle_s=${SETTLE_S:-5}

ids=$($compose ps -q "$service")
if [ -z "$ids" ]; then
  echo "no container of service '$service' is running" >&2
  exit 1
fi

first=1
for id in $ids; do
  (( first )) || sleep "$settle_s"
  first=0
  name=$(docker inspect --format '{{.Name}}' "$id")
  echo "restarting ${name#/}"
  docker restart --time 30 "$id" >/dev/null
  status=starting
  for _ in $(seq 1 $((timeout_s / 2))); do
    status=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
    case $status in
      healthy) break ;;
      unhealthy | none) break ;;
    esac
    sleep 2
  done
  if [ "$status" != healthy ]; then
    echo "${name#/} is $status after its restart: stopping here (the other replicas are untouched)" >&2
    exit 1
  fi
  echo "${name#/} healthy"
done
echo "all $(echo "$ids" | wc -w) replicas of '$service' restarted"
