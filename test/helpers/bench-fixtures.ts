// Made-up benchmark results for the tests of bench/report.ts: the shape of real ones, numbers chosen by hand.
import type { Results, SystemRun } from '../../bench/report.js';
import { SYSTEM_TITLES, type SystemId } from '../../bench/system-ids.js';
import { parseMix } from '../../bench/tweets.js';

export function benchRun(connections: number, textsPerSecond: number, p99: number): SystemRun {
  return {
    connections, durationS: 10, warmupS: 1, requests: textsPerSecond * 10, requestsPerSecond: textsPerSecond, okPerSecond: textsPerSecond, textsPerSecond,
    latency: { mean: p99 / 3, p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2 },
    errors: 0, timeouts: 0, non2xx: 0, statusCodes: { 200: textsPerSecond * 10 }, invalid: 0, problems: [],
    server: { meanBatchSize: 8, meanQueueWaitMs: 2, meanInferenceMs: 4, meanTextsPerTokenizeTask: 3, meanTextsPerRun: 4, meanTokenizeMs: 0.2, paddingRatio: 1.3, batches: 100, rejections: 0, aborted: 0, cacheHitRatio: null },
    cpu: { seconds: 10, cores: { load: 0.5, replicas: 1.2, nginx: 0.3, other: 0 }, machineBusy: 1 },
  };
}

export function benchResults(runs: Partial<Record<SystemId, SystemRun | SystemRun[]>>, ortTweetsPerSecond?: number): Results {
  const systems = Object.entries(runs).map(([id, r]) => ({ id: id as SystemId, title: SYSTEM_TITLES[id as SystemId], runs: Array.isArray(r) ? r : [r] }));
  const http = systems.find((s) => s.id === 'noop')?.runs[0]?.textsPerSecond;
  const composed = ortTweetsPerSecond !== undefined && http !== undefined ? 1 / (1 / ortTweetsPerSecond + 1 / http) : null;
  return {
    scenario: 'compare', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:10:00.000Z', command: 'npm run bench -- compare',
    machine: {
      cpuModel: 'Test CPU', logicalCpus: 2, availableCpus: 2, memoryGiB: 8, kernel: '6', node: 'v20', onnxruntimeNode: '1.30.0',
      autocannon: '8.0.0', nginx: 'nginx/1.22.1', device: 'cpu', loadAverageAtStart: [0, 0, 0], git: { commit: 'abc', dirty: false },
    },
    model: { path: 'models/twitter-sentiment', name: 'test', sha256: 'f'.repeat(64), seedModel: 'models/twitter-sentiment' },
    load: { mix: parseMix('0'), mixText: 'single texts only', tweets: 'validation.jsonl', tweetCount: 2000, durationS: 10, warmupS: 1, timeoutS: 10, rngSeed: 1 },
    sizing: {},
    systems,
    ceilings: {
      ort: ortTweetsPerSecond === undefined ? null : { tweetsPerSecond: ortTweetsPerSecond, batch: 32, threads: 1, sessions: 2, seconds: 10, command: [], raw: {} },
      http: http === undefined ? null : { textsPerSecond: http, connections: 500 },
      composed,
    },
    checks: [],
    notes: [],
  };
}
