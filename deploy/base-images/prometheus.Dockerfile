# Stand-in for the official prom/prometheus image, built by deploy/base-images.sh where Docker Hub cannot be
# reached: Debian's prometheus on the Debian root that script bootstrapped. Behaves as the official image does
# for docker-compose.yml: runs as `nobody`, prometheus as the entrypoint (compose passes its flags), data in
# /prometheus, and `wget` (busybox's, as in the official image) for the compose health check.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus busybox \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /bin/busybox /usr/local/bin/wget \
 && mkdir -p /prometheus \
 && chown nobody:nogroup /prometheus \
 && prometheus --version
USER nobody
WORKDIR /prometheus
EXPOSE 9090
VOLUME ["/prometheus"]
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
