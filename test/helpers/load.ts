// A closed-loop load generator for tests that must see every response's status, headers and body (autocannon
// reports counts only): `connections` clients, each sending its next request as soon as the last answered.
import { Pool } from 'undici';

export interface LoadResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  /** performance.now() when the request was sent and when its answer was read. */
  sentAt: number;
  receivedAt: number;
}

export interface LoadOptions {
  url: string;
  path?: string;
  connections: number;
  /** Stop sending after this many ms… */
  durationMs?: number;
  /** …or after this many requests in all. */
  requests?: number;
  /** The JSON body of the n-th request. */
  body(n: number): unknown;
  headers?: Record<string, string>;
  /** Called for every response; return false to stop keeping it (memory, in long runs). */
  keep?(result: LoadResult): boolean;
  onResponse?(result: LoadResult): void;
}

export interface LoadSummary {
  results: LoadResult[];
  sent: number;
  /** Transport errors (connection refused or reset, timeouts): requests that got no HTTP answer. */
  errors: number;
  statusCounts: Record<number, number>;
}

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const pool = new Pool(options.url, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const stopAt = options.durationMs !== undefined ? performance.now() + options.durationMs : Infinity;
  const limit = options.requests ?? Infinity;
  const summary: LoadSummary = { results: [], sent: 0, errors: 0, statusCounts: {} };
  const client = async () => {
    while (performance.now() < stopAt && summary.sent < limit) {
      const n = summary.sent++;
      const sentAt = performance.now();
      try {
        const response = await pool.request({
          path: options.path ?? '/api/predict',
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers },
          body: JSON.stringify(options.body(n)),
        });
        const text = await response.body.text();
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* not JSON: kept as text, which a test will flag */ }
        const result: LoadResult = { status: response.statusCode, headers: response.headers, body, sentAt, receivedAt: performance.now() };
        summary.statusCounts[result.status] = (summary.statusCounts[result.status] ?? 0) + 1;
        options.onResponse?.(result);
        if (options.keep?.(result) ?? true) summary.results.push(result);
      } catch {
        summary.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, client));
  await pool.close();
  return summary;
}
