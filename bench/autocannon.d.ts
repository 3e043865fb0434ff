// The part of autocannon's programmatic API (v8) that the benchmarks use; autocannon ships no types.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p0_001: number; p0_01: number; p0_1: number; p1: number; p2_5: number; p10: number; p25: number;
      p50: number; p75: number; p90: number; p97_5: number; p99: number; p99_9: number; p99_99: number; p99_999: number;
      sent?: number;
      totalCount?: number;
    }

    interface RequestOptions {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      /** Called before each request is sent; returns the request to send. */
      setupRequest?: (request: RequestOptions, context: Record<string, unknown>) => RequestOptions | null | undefined;
      onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
    }

    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      amount?: number;
      timeout?: number;
      pipelining?: number;
      bailout?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      requests?: RequestOptions[];
      initialContext?: Record<string, unknown>;
      title?: string;
      excludeErrorStats?: boolean;
      setupClient?: (client: EventEmitter) => void;
      verifyBody?: (body: string) => boolean;
    }

    interface Result {
      title?: string;
      url: string;
      connections: number;
      duration: number;
      start: Date;
      finish: Date;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      resets: number;
      '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number;
      statusCodeStats: Record<string, { count: number }>;
      latency: Histogram;
      requests: Histogram;
      throughput: Histogram;
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  function autocannon(options: autocannon.Options, callback: (error: Error | null, result: autocannon.Result) => void): autocannon.Instance;
  export default autocannon;
}
