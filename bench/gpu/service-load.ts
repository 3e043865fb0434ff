// Drives a running service with autocannon at several connection counts, one after another, with the same
// load code as the CPU benchmarks (bench/load.ts: real tweets in a seeded order, every answer validated) and
// the server's own /metrics scraped around each level (mean batch size, queue wait, inference time).
// Waits for /api/ready first (a GPU worker warms up at the largest batch shape before it takes work).
//
//   node js/service-load.mjs --url http://127.0.0.1:5055 --connections 1,100,500 --seconds 10 --texts t.jsonl
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad, type LoadStats } from '../load.js';
import { scrapeTotals, serverSideStats, type ServerSideStats } from '../scrape.js';
import { loadTweets, SINGLE_ONLY } from '../tweets.js';

export interface LevelResult extends LoadStats {
  server: ServerSideStats;
}

export interface ServiceLoadResult {
  label: string;
  url: string;
  /** GET /api/model: name, device, execution providers, file, sha256. */
  model: Record<string, unknown> | null;
  /** Seconds from the call until /api/ready answered 200. */
  readyAfterS: number;
  levels: LevelResult[];
}

/** Polls GET /api/ready until it answers 200; throws after `timeoutS`. */
export async function waitReady(url: string, timeoutS: number, pollMs = 250): Promise<number> {
  const started = performance.now();
  const deadline = started + timeoutS * 1000;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const response = await fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(5_000) });
      if (response.status === 200) return (performance.now() - started) / 1000;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`${url}/api/ready did not answer 200 within ${timeoutS} s (last: ${last})`);
}

export async function serviceLoad(options: {
  url: string;
  label: string;
  connections: number[];
  seconds: number;
  warmupSeconds: number;
  texts: string[];
  readyTimeoutS: number;
  progress?: boolean;
}): Promise<ServiceLoadResult> {
  const readyAfterS = await waitReady(options.url, options.readyTimeoutS);
  let model: Record<string, unknown> | null;
  try {
    model = await (await fetch(`${options.url}/api/model`)).json() as Record<string, unknown>;
  } catch {
    model = null;
  }
  const labels = Array.isArray(model?.labels) ? (model.labels as string[]) : undefined;
  if (options.warmupSeconds > 0) {
    // Unmeasured: the GPU's clocks and the allocator settle at the heaviest level.
    await runLoad({ url: options.url, connections: Math.max(...options.connections), durationS: options.warmupSeconds,
      texts: options.texts, mix: SINGLE_ONLY, labels, seed: 7, progress: false });
  }
  const levels: LevelResult[] = [];
  for (const connections of options.connections) {
    const before = await scrapeTotals([options.url]);
    const stats = await runLoad({
      url: options.url, connections, durationS: options.seconds, texts: options.texts, mix: SINGLE_ONLY, labels,
      seed: connections, name: options.label, progress: options.progress ?? true,
    });
    const after = await scrapeTotals([options.url]);
    levels.push({ ...stats, server: serverSideStats(before, after) });
    process.stderr.write(`[service-load ${options.label}] c=${connections}: ${stats.okPerSecond.toFixed(1)} ok/s, ` +
      `p50 ${stats.latency.p50} ms, p99 ${stats.latency.p99} ms, non-2xx ${stats.non2xx}, errors ${stats.errors}, ` +
      `invalid ${stats.invalid}, mean batch ${levels.at(-1)!.server.meanBatchSize?.toFixed(1) ?? '-'}\n`);
  }
  return { label: options.label, url: options.url, model, readyAfterS: Number(readyAfterS.toFixed(1)), levels };
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:5055' },
      label: { type: 'string', default: 'service' },
      connections: { type: 'string', default: '1,100,500' },
      seconds: { type: 'string', default: '10' },
      'warmup-seconds': { type: 'string', default: '2' },
      texts: { type: 'string' },
      'ready-timeout': { type: 'string', default: '300' },
    },
  });
  const result = await serviceLoad({
    url: values.url,
    label: values.label,
    connections: values.connections.split(',').map(Number).filter((c) => Number.isInteger(c) && c > 0),
    seconds: Number(values.seconds),
    warmupSeconds: Number(values['warmup-seconds']),
    texts: values.texts !== undefined ? loadTweets(values.texts) : loadTweets(),
    readyTimeoutS: Number(values['ready-timeout']),
  });
  console.log(JSON.stringify(result));
  return 0;
}

if (/^service-load\.(ts|js|mjs)$/.test(basename(process.argv[1] ?? ''))) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
    console.error(`service-load: ${(error as Error).message ?? error}`);
    process.exitCode = 1;
  });
}
