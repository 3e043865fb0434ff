// Types of deploy/render-local.mjs, for TypeScript tests and benchmarks that import it.
export const ROOT: string;
export const NGINX_CONF: string;
export const TLS_CONF_EXAMPLE: string;
export const PROMETHEUS_YML: string;
export function renderNginxConf(source: string, options: {
  upstreams: string[];
  listen: string;
  dir: string;
  tlsDir?: string;
  limitReq?: { rate: string; burst: number };
}): string;
export function renderTlsConf(source: string, options: { listen: string; certDir: string }): string;
export function renderPrometheusConfig(source: string, options: {
  apiTargets: string[];
  selfTarget: string;
  interval?: string;
  sourceDir?: string;
}): string;
