// The systems a benchmark can measure (started by bench/systems.ts), with their names in tables and charts.
export const SYSTEM_IDS = ['service', 'baseline', 'service-direct', 'batching-off', 'batching-off-direct', 'seed', 'transformersjs', 'noop', 'ort'] as const;
export type SystemId = (typeof SYSTEM_IDS)[number];

export const SYSTEM_TITLES: Record<SystemId, string> = {
  service: 'Service, batching on, NGINX + replicas',
  baseline: 'Baseline: the service built in another checkout (--baseline), NGINX + replicas',
  'service-direct': 'Service, batching on, 1 replica direct',
  'batching-off': 'Service, batching off (MAX_BATCH_SIZE=1), NGINX + replicas',
  'batching-off-direct': 'Service, batching off, 1 replica direct',
  seed: 'The Flask + PyTorch design this service replaces (seed): gunicorn, per-request inference',
  transformersjs: 'transformers.js peer: Fastify, same schemas, one pipeline() call per request, NGINX + replicas',
  noop: 'R_http: no-op Fastify, same schemas, NGINX + replicas',
  ort: 'R_ort: ONNX Runtime alone, batched loop, no HTTP',
};

/** Short names for charts. */
export const SYSTEM_SHORT: Record<SystemId, string> = {
  service: 'service (NGINX + replicas)',
  baseline: 'baseline service (NGINX + replicas)',
  'service-direct': 'service (1 replica, direct)',
  'batching-off': 'batching off (NGINX + replicas)',
  'batching-off-direct': 'batching off (1 replica, direct)',
  seed: 'seed: Flask + PyTorch',
  transformersjs: 'transformers.js (NGINX + replicas)',
  noop: 'R_http: no-op Fastify via NGINX',
  ort: 'R_ort: ONNX Runtime alone',
};
