#!/usr/bin/env node
// Renders the production NGINX and Prometheus configurations for a loopback run without Docker: the api
// replicas on 127.0.0.1 ports instead of the DNS name `api`, and every file NGINX or Prometheus writes in
// one directory that a non-root user owns. Nothing else changes, so what a loopback run proves (tests,
// benchmarks) holds for the files docker-compose.yml mounts. Every substitution must match exactly as often
// as expected, or rendering throws: an edit of nginx.conf or prometheus.yml that this script no longer
// understands fails loudly instead of leaving a production setting in place.
//
//   node deploy/render-local.mjs nginx --upstream 127.0.0.1:5001 --upstream 127.0.0.1:5002 \
//        --listen 127.0.0.1:8080 --dir /tmp/nginx [--tls-dir /tmp/nginx/tls] > /tmp/nginx/nginx.conf
//   nginx -p /tmp/nginx -c /tmp/nginx/nginx.conf -e /tmp/nginx/error.log -g 'daemon off;'
//
//   node deploy/render-local.mjs tls --listen 127.0.0.1:8443 --cert-dir /tmp/nginx/tls > /tmp/nginx/tls/tls.conf
//
//   node deploy/render-local.mjs prometheus --target 127.0.0.1:5001 --target 127.0.0.1:5002 \
//        --self 127.0.0.1:9090 [--interval 1s] > /tmp/prometheus/prometheus.yml
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import YAML from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const NGINX_CONF = join(ROOT, 'nginx.conf');
export const TLS_CONF_EXAMPLE = join(ROOT, 'deploy/nginx/tls/tls.conf.example');
export const PROMETHEUS_YML = join(ROOT, 'deploy/prometheus/prometheus.yml');

/** Replaces every match of `pattern` (made global) and checks how many there were. */
function replaceCounted(text, pattern, replacement, expected, what) {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const found = text.match(global)?.length ?? 0;
  if (found !== expected) {
    throw new Error(`render-local: expected ${expected} ${what} in the source, found ${found}; update deploy/render-local.mjs`);
  }
  return text.replace(global, replacement);
}

function checkAddress(address, what) {
  if (!/^127(\.\d{1,3}){3}:\d{1,5}$|^\[::1\]:\d{1,5}$/.test(address)) {
    throw new Error(`render-local: ${what} must be a loopback host:port, got '${address}'`);
  }
  return address;
}

function checkDir(dir, what) {
  if (!isAbsolute(dir) || /[\s;{}'"]/.test(dir)) throw new Error(`render-local: ${what} must be an absolute path without spaces or quotes, got '${dir}'`);
  return dir.replace(/\/+$/, '');
}

/**
 * nginx.conf for loopback. Changes: no `user` (a non-root master cannot switch users; a root one runs its
 * workers as nobody); pid, error log, access log and temp directories under `dir`; the upstream's one
 * `server api:5000 resolve ...` line becomes one line per address in `upstreams` (same parameters, without
 * `resolve`, which needs nginx >= 1.27.3 and a DNS name); `listen 80` becomes `listen <listen>`; the TLS
 * include reads `tlsDir` (an empty or absent directory means HTTP only). `limitReq` (benchmarks only)
 * replaces the per-client rate and burst.
 *
 * @param {string} source the text of nginx.conf
 * @param {{upstreams: string[], listen: string, dir: string, tlsDir?: string, limitReq?: {rate: string, burst: number}}} options
 * @returns {string}
 */
export function renderNginxConf(source, { upstreams, listen, dir, tlsDir, limitReq }) {
  if (!Array.isArray(upstreams) || upstreams.length === 0) throw new Error('render-local: at least one upstream address');
  upstreams.forEach((address) => checkAddress(address, 'an upstream'));
  checkAddress(listen, 'listen');
  dir = checkDir(dir, 'dir');
  tlsDir = checkDir(tlsDir ?? join(dir, 'tls'), 'tlsDir');

  let out = source;
  out = replaceCounted(out, /^user\s+[^;]+;\n/m, '', 1, '`user` directive');
  out = replaceCounted(out, /^pid\s+[^;]+;/m, `pid ${dir}/nginx.pid;`, 1, '`pid` directive');
  out = replaceCounted(out, /^error_log\s+\S+/m, `error_log ${dir}/error.log`, 1, 'main `error_log`');
  out = replaceCounted(out, /^(\s*)access_log\s+\/var\/log\/nginx\/access\.log\b/m, `$1access_log ${dir}/access.log`, 1, '`access_log` to /var/log/nginx/access.log');
  out = replaceCounted(out, /^http \{\n/m, [
    'http {',
    `  client_body_temp_path ${dir}/client_body_temp;`,
    `  proxy_temp_path ${dir}/proxy_temp;`,
    `  fastcgi_temp_path ${dir}/fastcgi_temp;`,
    `  uwsgi_temp_path ${dir}/uwsgi_temp;`,
    `  scgi_temp_path ${dir}/scgi_temp;`,
    '',
  ].join('\n'), 1, '`http {` block');
  out = replaceCounted(out, /^(\s*)server\s+api:5000\s+resolve\b([^;]*);/m,
    (_match, indent, params) => upstreams.map((address) => `${indent}server ${address}${params};`).join('\n'),
    1, '`server api:5000 resolve` line in the upstream');
  out = replaceCounted(out, /^(\s*)listen\s+80(\s[^;]*)?;/m, (_match, indent, params = '') => `${indent}listen ${listen}${params};`, 1, '`listen 80`');
  out = replaceCounted(out, /include\s+\/etc\/nginx\/tls\/\*\.conf;/, `include ${tlsDir}/*.conf;`, 1, 'TLS include');
  if (limitReq) {
    if (!/^\d+r\/[sm]$/.test(limitReq.rate) || !Number.isInteger(limitReq.burst)) throw new Error('render-local: limitReq is {rate: "NNNr/s", burst: integer}');
    out = replaceCounted(out, /(zone=api_per_client:\S+\s+rate=)\S+;/, `$1${limitReq.rate};`, 1, 'limit_req_zone rate');
    // The API's location and / (whose POST is TEI's predict) share the zone and its burst.
    out = replaceCounted(out, /(limit_req zone=api_per_client burst=)\d+/, `$1${limitReq.burst}`, 3, 'limit_req burst');
  }
  return out;
}

/**
 * The TLS snippet (deploy/nginx/tls/tls.conf.example) for loopback: `listen 443 ssl` becomes
 * `listen <listen> ssl` and the certificate paths point into certDir (tls.crt, tls.key there).
 *
 * @param {string} source
 * @param {{listen: string, certDir: string}} options
 */
export function renderTlsConf(source, { listen, certDir }) {
  checkAddress(listen, 'listen');
  certDir = checkDir(certDir, 'certDir');
  let out = replaceCounted(source, /^listen\s+443\s+ssl;/m, `listen ${listen} ssl;`, 1, '`listen 443 ssl`');
  out = replaceCounted(out, /^(ssl_certificate(?:_key)?\s+)\/etc\/nginx\/tls\//m, `$1${certDir}/`, 2, 'ssl_certificate and ssl_certificate_key under /etc/nginx/tls/');
  return out;
}

/**
 * prometheus.yml for loopback: job `api` scrapes `apiTargets` (static) instead of its DNS service
 * discovery, job `prometheus` scrapes `selfTarget`; optional shorter scrape and evaluation intervals; rule
 * files resolved to absolute paths next to the source file. Relabelling, paths and the rules are unchanged.
 *
 * @param {string} source the text of deploy/prometheus/prometheus.yml
 * @param {{apiTargets: string[], selfTarget: string, interval?: string, sourceDir?: string}} options
 * @returns {string}
 */
export function renderPrometheusConfig(source, { apiTargets, selfTarget, interval, sourceDir = dirname(PROMETHEUS_YML) }) {
  if (!Array.isArray(apiTargets) || apiTargets.length === 0) throw new Error('render-local: at least one api target');
  apiTargets.forEach((address) => checkAddress(address, 'an api target'));
  checkAddress(selfTarget, 'the Prometheus address');
  const config = YAML.parse(source);
  const jobs = config.scrape_configs ?? [];
  const api = jobs.filter((job) => job.job_name === 'api');
  const self = jobs.filter((job) => job.job_name === 'prometheus');
  if (api.length !== 1 || !Array.isArray(api[0].dns_sd_configs) || api[0].dns_sd_configs.length !== 1) {
    throw new Error('render-local: expected one job `api` with one dns_sd_configs entry; update deploy/render-local.mjs');
  }
  if (self.length !== 1 || !Array.isArray(self[0].static_configs)) {
    throw new Error('render-local: expected one job `prometheus` with static_configs; update deploy/render-local.mjs');
  }
  delete api[0].dns_sd_configs;
  api[0].static_configs = [{ targets: apiTargets }];
  self[0].static_configs = [{ targets: [selfTarget] }];
  if (interval !== undefined) {
    config.global = { ...config.global, scrape_interval: interval, evaluation_interval: interval };
    if (config.global.scrape_timeout !== undefined) config.global.scrape_timeout = interval;
    for (const job of jobs) {
      if (job.scrape_interval !== undefined) job.scrape_interval = interval;
      if (job.scrape_timeout !== undefined) job.scrape_timeout = interval;
    }
  }
  config.rule_files = (config.rule_files ?? []).map((file) => (isAbsolute(file) ? file : join(sourceDir, file)));
  return YAML.stringify(config);
}

function main(argv) {
  const [what, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      upstream: { type: 'string', multiple: true },
      target: { type: 'string', multiple: true },
      listen: { type: 'string' },
      dir: { type: 'string' },
      'tls-dir': { type: 'string' },
      'cert-dir': { type: 'string' },
      self: { type: 'string' },
      interval: { type: 'string' },
      source: { type: 'string' },
    },
  });
  const read = (fallback) => readFileSync(values.source ?? fallback, 'utf8');
  if (what === 'nginx') {
    return renderNginxConf(read(NGINX_CONF), { upstreams: values.upstream ?? [], listen: values.listen ?? '', dir: values.dir ?? '', tlsDir: values['tls-dir'] });
  }
  if (what === 'tls') return renderTlsConf(read(TLS_CONF_EXAMPLE), { listen: values.listen ?? '', certDir: values['cert-dir'] ?? '' });
  if (what === 'prometheus') {
    return renderPrometheusConfig(read(PROMETHEUS_YML), { apiTargets: values.target ?? [], selfTarget: values.self ?? '', interval: values.interval });
  }
  throw new Error('usage: render-local.mjs nginx|tls|prometheus [options] (see the top of deploy/render-local.mjs)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.stdout.write(main(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
