# Stand-in for the official nginx:<version>-alpine image, built by deploy/base-images.sh where Docker Hub cannot
# be reached: Debian's nginx on the Debian root that script bootstrapped (a release whose nginx is at least
# 1.27.3, which nginx.conf's upstream `resolve` needs). Behaves as the official image does for
# docker-compose.yml: user `nginx` (nginx.conf runs its workers as it), logs on the container's stdout and
# stderr, graceful stop on SIGQUIT, and `wget` (busybox's, as on Alpine) for the compose health check.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx busybox \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
 && ln -s /bin/busybox /usr/local/bin/wget \
 && useradd --system --no-create-home --shell /usr/sbin/nologin nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log \
 && nginx -v
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
