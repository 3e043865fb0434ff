// What the monitoring of predictions costs on the hot path, per text: the predictor tallies a batch's answers
// (labels, confidence bucket, truncation) in plain arrays and adds them to the metrics once per batch
// (core/prediction-tally.ts, core/metrics.ts). Compared here with no monitoring at all and with the Prometheus client's
// own Histogram observed once per text, on the same batches of 32 answers, in this process alone:
//   npx tsx bench/monitoring-cost.ts [--batches 200000] [--size 32]
// Prints nanoseconds per text for each; run it on a quiet machine.
import { parseArgs } from 'node:util';
import client from '@prometheus-io/client';
import { ServiceMetrics } from '../core/metrics.js';
import { CONFIDENCE_BUCKETS, PredictionTally } from '../core/prediction-tally.js';
import { argmax, type TextResult } from '../core/results.js';
import { softmaxRows } from '../inference/model-head.js';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '200000' }, size: { type: 'string', default: '32' } } });
const batches = Number(values.batches);
const size = Number(values.size);
const labels = ['negative', 'neutral', 'positive'];
const model = { labels, problemType: 'single_label_classification' as const, version: 'b9d4e76b53ae', sha256: 'b9d4e76b53ae'.padEnd(64, '0') };

// One batch of answers, as the worker returns them (random logits), reused for every batch measured.
const logits = Float32Array.from({ length: size * 3 }, () => Math.random() * 8 - 4);
const scores = softmaxRows(logits, 3);
const results: TextResult[] = Array.from({ length: size }, (_, i) => {
  const row = scores.subarray(i * 3, i * 3 + 3);
  return { labelIndex: argmax(row), scores: row, logits: logits.subarray(i * 3, i * 3 + 3), truncated: i === 0 };
});

function time(name: string, perBatch: () => void): void {
  for (let i = 0; i < Math.min(batches, 20_000); i++) perBatch(); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) perBatch();
  const ns = Number(process.hrtime.bigint() - started) / (batches * size);
  console.log(`${name.padEnd(68)} ${ns.toFixed(1)} ns a text`);
}

let sink = 0;
time('no monitoring (the loop over the answers alone)', () => {
  for (const result of results) sink += result.labelIndex;
});

const metrics = new ServiceMetrics({ depth: () => 0, inFlight: () => 0, capacity: () => 0 });
time('per batch: PredictionTally + one add to the metrics (the service)', () => {
  const tally = new PredictionTally(3, model.problemType);
  for (const result of results) tally.add(result);
  metrics.countPredictions(model, tally);
});

const registry = new client.Registry();
const histogram = new client.Histogram({ name: 'confidence', help: 'h', labelNames: ['model_version'], buckets: [...CONFIDENCE_BUCKETS], registers: [registry] });
const counter = new client.Counter({ name: 'labels_total', help: 'c', labelNames: ['label', 'model_version'], registers: [registry] });
const child = histogram.labels(model.version);
const children = labels.map((label) => counter.labels(label, model.version));
time('per text: @prometheus-io/client Histogram.observe and Counter.inc', () => {
  for (const result of results) {
    child.observe(result.scores[result.labelIndex]!);
    children[result.labelIndex]!.inc();
  }
});
if (sink === -1) console.log(sink);
