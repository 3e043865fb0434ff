# Stand-in for the official redis:<version>-alpine image, built by deploy/base-images.sh where Docker Hub cannot
# be reached: Debian's redis-server on the Debian root that script bootstrapped. Behaves as the official image
# does for docker-compose.yml: runs as `redis`, data in /data, redis-cli for the compose health check.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data \
 && chown redis:redis /data \
 && redis-server --version
USER redis
WORKDIR /data
EXPOSE 6379
VOLUME ["/data"]
CMD ["redis-server"]
