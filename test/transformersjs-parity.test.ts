// The transformers.js peer of the benchmarks (bench/transformersjs-server.ts, issue 13) answers what the
// service answers: the shipped model, laid out for transformers.js, through the harness's own start-up (a
// replica behind NGINX), against the service, on 20 validation tweets, over real HTTP. A peer that scored
// differently would make the comparison meaningless. Needs `npm run build` first and nginx installed.
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { layOutForTransformersJs } from '../bench/transformersjs-layout.js';
import { startSystem, type RunningSystem, type Sizing } from '../bench/systems.js';
import type { RestPrediction } from '../server/routes/predict.js';
import { postJson, startTestService } from './helpers/service.js';

const ROOT = join(import.meta.dirname, '..');
const MODEL = join(ROOT, 'models', 'twitter-sentiment');
const TWEETS = readFileSync(join(ROOT, '..', 'shared', 'data', 'tweeteval-sentiment', 'validation.jsonl'), 'utf8')
  .split('\n').filter(Boolean).slice(0, 20).map((line) => (JSON.parse(line) as { text: string }).text);
/** The bar for "the same probabilities". */
const TOLERANCE = 1e-4;

const sizing: Sizing = {
  cores: 1, replicas: 1, workers: 1, intraOpThreads: 1, tokenizerThreads: 1, serviceEnv: {}, seedWorkers: 1, seedThreads: 1, torchThreads: 1,
};

t.test('the layout links the service\'s files and names a model family transformers.js knows', async (t) => {
  const layout = layOutForTransformersJs(MODEL);
  const dir = join(layout.root, layout.id);
  t.equal(realpathSync(join(dir, 'onnx/model.onnx')), realpathSync(join(MODEL, 'model.onnx')), 'onnx/model.onnx is the fp32 model.onnx');
  t.equal(readlinkSync(join(dir, 'tokenizer.json')), join(MODEL, 'tokenizer.json'));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type: string; id2label: Record<string, string> };
  t.equal(config.model_type, 'bert', 'the shipped model reads input_ids + attention_mask as BERT does');
  t.equal(layout.originalModelType, 'tweet-cnn-ngram-ensemble');
  t.same(Object.values(config.id2label), layout.labels);
  t.equal(layOutForTransformersJs(MODEL).id, layout.id, 'the same model gives the same folder');
});

t.test('20 validation tweets: the transformers.js peer and the service give the same probabilities', async (t) => {
  const service = await startTestService({ MODEL_PATH: MODEL, MAX_CLIENT_BATCH: '32' });
  t.teardown(() => service.close());
  let peer: RunningSystem | undefined;
  t.teardown(() => peer?.stop());
  peer = await startSystem('transformersjs', { model: MODEL, seedModel: MODEL, sizing });

  const ask = async (url: string, text: string) => {
    const response = await postJson<RestPrediction>(`${url}/api/predict`, { text });
    t.equal(response.status, 200);
    return response.body;
  };
  let worst = 0;
  const expected: RestPrediction[] = [];
  for (const text of TWEETS) {
    const [ours, theirs] = [await ask(service.url, text), await ask(peer.url, text)];
    expected.push(ours);
    t.same(Object.keys(theirs.scores), Object.keys(ours.scores), 'every label, in the model\'s order');
    t.equal(theirs.label, ours.label);
    for (const label of Object.keys(ours.scores)) worst = Math.max(worst, Math.abs(theirs.scores[label]! - ours.scores[label]!));
  }
  t.ok(worst <= TOLERANCE, `POST /api/predict: largest score difference ${worst.toExponential(1)} (≤ ${TOLERANCE})`);
  t.ok(new Set(expected.map((p) => p.label)).size === 3, 'the tweets cover all three labels');

  const batch = await postJson<{ predictions: RestPrediction[] }>(`${peer.url}/api/predict/batch`, { texts: TWEETS });
  t.equal(batch.status, 200);
  const batchWorst = Math.max(...batch.body.predictions.flatMap((p, i) => Object.keys(p.scores).map((label) => Math.abs(p.scores[label]! - expected[i]!.scores[label]!))));
  t.ok(batchWorst <= TOLERANCE, `POST /api/predict/batch (one padded pipeline call): largest difference ${batchWorst.toExponential(1)}`);

  const invalid = await postJson(`${peer.url}/api/predict`, { text: '' });
  t.equal(invalid.status, 400, 'the service\'s request schema');
  t.equal(invalid.body.code, 'FST_ERR_VALIDATION');
});
