// One predictor path behind every protocol: the same real tweets through /api/predict/batch, TEI's /predict,
// V2's infer and the Hugging Face task route give the same probabilities (the shipped model), and share one cache.
import { join } from 'node:path';
import t from 'tap';
import { validationTexts } from '../helpers/data.js';
import { SCORE_TOLERANCE } from '../helpers/predictions.js';
import { postJson, startTestService } from '../helpers/service.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TWEETS = validationTexts().slice(100, 132);

const server = await startTestService({ MODEL_PATH: join(ROOT, 'models', 'twitter-sentiment'), MAX_CLIENT_BATCH: '32' });
t.teardown(() => server.close());
const { url } = server;

t.test('32 tweets: /api/predict/batch, /predict, /v2/models/.../infer and /hf/text-classification agree', async (t) => {
  const reference = (await postJson(`${url}/api/predict/batch`, { texts: TWEETS })).body.predictions as { label: string; scores: Record<string, number> }[];
  const labels = Object.keys(reference[0]!.scores);
  const expected = reference.map((p) => labels.map((label) => p.scores[label]!));

  const tei = (await postJson(`${url}/predict`, { inputs: TWEETS.map((text) => [text]) })).body as { label: string; score: number }[][];
  const teiRows = tei.map((list) => labels.map((label) => list.find((p) => p.label === label)!.score));

  const v2 = (await postJson(`${url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [TWEETS.length], datatype: 'BYTES', data: TWEETS }], outputs: [{ name: 'probabilities' }, { name: 'label' }] })).body;
  const v2Rows = TWEETS.map((_, i) => v2.outputs[0].data.slice(i * labels.length, (i + 1) * labels.length) as number[]);

  const hf = (await postJson(`${url}/hf/text-classification`, { inputs: TWEETS })).body as { label: string; score: number }[][];
  const hfRows = hf.map((list) => labels.map((label) => list.find((p) => p.label === label)!.score));

  for (const [name, rows] of [['TEI /predict', teiRows], ['V2 infer', v2Rows], ['HF text-classification', hfRows]] as const) {
    const worst = Math.max(...rows.flatMap((row, i) => row.map((x, k) => Math.abs(x - expected[i]![k]!))));
    t.ok(worst <= SCORE_TOLERANCE, `${name}: largest difference from /api/predict/batch ${worst.toExponential(1)}`);
  }
  t.same(v2.outputs[1].data, reference.map((p) => p.label), 'V2 labels = /api/predict labels');
  t.same(tei.map((list) => list[0]!.label), reference.map((p) => p.label), 'TEI top labels = /api/predict labels');
  t.ok(new Set(reference.map((p) => p.label)).size === 3, 'the tweets cover all three labels');
});

t.test('one cache behind every protocol: a text predicted on /api/predict is a cache hit on V2, HF and TEI (same truncation)', async (t) => {
  const cached = await startTestService({ MODEL_PATH: join(ROOT, 'models', 'twitter-sentiment'), CACHE_SIZE: '1000' });
  t.teardown(() => cached.close());
  const text = TWEETS[0]!;
  const first = await postJson(`${cached.url}/api/predict`, { text });
  t.equal(first.headers.get('x-cache'), 'miss');
  const calls: [string, unknown][] = [
    ['/v2/models/sentiment/infer', { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [text] }] }],
    ['/hf/text-classification', { inputs: text }],
    // TEI refuses long texts by default; truncate: true asks for /api/predict's truncation, hence its cached answer.
    ['/predict', { inputs: text, truncate: true }],
  ];
  for (const [path, body] of calls) {
    const res = await postJson(`${cached.url}${path}`, body);
    t.equal(res.status, 200, path);
    t.equal(res.headers.get('x-cache'), 'hit', `${path}: answered from the cache /api/predict filled`);
  }
});
