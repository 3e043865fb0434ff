// Preprocessing declared with the model: config.json `text_preprocessing: ["twitter_user_http"]` makes the
// service apply the Twitter RoBERTa cards' rule (mentions → @user, links → http) to every text, on every
// way in, before the cache is asked. Checked against the card's own Python `preprocess`, run here with
// python3, on the shipped model's 200 reference tweets and on tweets made to probe the rule's edges; then,
// with the real Twitter RoBERTa tokenizer (test/fixtures/roberta-tiny), the service that declares the rule
// must read a raw tweet exactly as a plain service reads the tweet the Python rule made.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { twitterUserHttp } from '../../core/text-preprocessing.js';
import { assertSamePrediction, sameWithinTolerance } from '../helpers/predictions.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';

// The model card's function, word for word (cardiffnlp/twitter-roberta-base-sentiment-latest).
const CARD_PREPROCESS = `
import json, sys
def preprocess(text):
    new_text = []
    for t in text.split(" "):
        t = '@user' if t.startswith('@') and len(t) > 1 else t
        t = 'http' if t.startswith('http') else t
        new_text.append(t)
    return " ".join(new_text)
print(json.dumps([preprocess(text) for text in json.load(sys.stdin)]))
`;

const REFERENCE = JSON.parse(readFileSync(new URL('../../models/twitter-sentiment/reference-logits.json', import.meta.url), 'utf8')) as { tweets: { text: string }[] };
const EDGES = [
  '@alice check https://t.co/xyz now',
  'a lone @ and @@double and @',
  'mail bob@example.com or visit xhttp://a.b',
  'http',
  'HTTP://UPPER.CASE is not lower case',
  '@alice\n@bob on a new line',
  'tabs\t@carol\tstay',
  '  two leading spaces and two  inside @dave  ',
  'https://a.b/c?d=e&f=g',
  '@😀 an emoji handle and @é',
  '@user already and http already',
  'RT @ann: https://x.y #tag @',
  'no mention, no link',
];
const TWEETS = [...REFERENCE.tweets.map((tweet) => tweet.text), ...EDGES];

function cardRule(texts: string[]): string[] {
  const run = spawnSync('/usr/bin/python3', ['-c', CARD_PREPROCESS], { input: JSON.stringify(texts), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

function robertaWith(preprocessing: string[] | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'roberta-preprocessing-'));
  cpSync(`${FIXTURES}roberta-tiny`, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...(preprocessing ? { text_preprocessing: preprocessing } : {}) }));
  return dir;
}

const expected = cardRule(TWEETS);

t.test('the rule is the card\'s Python preprocess, text for text', async (t) => {
  t.equal(expected.length, TWEETS.length);
  const changed = TWEETS.filter((text, i) => expected[i] !== text).length;
  t.ok(changed >= 7, `${changed} of ${TWEETS.length} tweets change under the rule`);
  TWEETS.forEach((text, i) => t.equal(twitterUserHttp(text), expected[i], JSON.stringify(text)));
});

t.test('with the Twitter RoBERTa tokenizer: a raw tweet is read as the card\'s preprocessed one, on every way in', async (t) => {
  const declaring = await startTestService({ MODEL_PATH: robertaWith(['twitter_user_http']), CACHE_SIZE: '100', MAX_CLIENT_BATCH: '256' });
  const plain = await startTestService({ MODEL_PATH: robertaWith(undefined), MAX_CLIENT_BATCH: '256' });
  t.teardown(async () => { await declaring.close(); await plain.close(); });

  t.same((await getJson(`${declaring.url}/api/model`)).body.preprocessing, ['twitter_user_http'], '/api/model shows it');
  t.same((await getJson(`${plain.url}/api/model`)).body.preprocessing, [], 'a plain export declares none');
  t.same((await getJson(`${declaring.url}/info`)).body.text_preprocessing, ['twitter_user_http'], 'TEI /info shows it');
  t.equal((await getJson(`${declaring.url}/v2/models/sentiment`)).body.properties.text_preprocessing, '["twitter_user_http"]', 'V2 metadata shows it');

  const tokensOf = async (url: string, texts: string[]) => (await postJson(`${url}/tokenize`, { inputs: texts })).body as { id: number }[][];
  const raw = await tokensOf(declaring.url, TWEETS);
  const reference = await tokensOf(plain.url, expected);
  TWEETS.forEach((text, i) => t.same(raw[i]!.map((token) => token.id), reference[i]!.map((token) => token.id), `the same tokens: ${JSON.stringify(text).slice(0, 60)}`));

  const rest = (await postJson(`${declaring.url}/api/predict/batch`, { texts: TWEETS })).body.predictions;
  const restReference = (await postJson(`${plain.url}/api/predict/batch`, { texts: expected })).body.predictions;
  TWEETS.forEach((_, i) => assertSamePrediction(t, rest[i], restReference[i], `/api/predict/batch ${i}`));
  const tei = (await postJson(`${declaring.url}/predict`, { inputs: EDGES[0] })).body;
  const teiReference = (await postJson(`${plain.url}/predict`, { inputs: twitterUserHttp(EDGES[0]!) })).body;
  t.ok(sameWithinTolerance(tei, teiReference), `TEI /predict: ${JSON.stringify(tei)} matches ${JSON.stringify(teiReference)}`);
  const v2 = (await postJson(`${declaring.url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [EDGES[0]] }] })).body;
  const v2Reference = (await postJson(`${plain.url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [twitterUserHttp(EDGES[0]!)] }] })).body;
  t.ok(sameWithinTolerance(v2.outputs, v2Reference.outputs), `V2 infer: ${JSON.stringify(v2.outputs)} matches ${JSON.stringify(v2Reference.outputs)}`);

  // Before the cache key: two tweets the rule makes equal share one answer.
  const first = await postJson(`${declaring.url}/api/predict`, { text: '@alice see https://a.example/1 tonight' });
  const second = await postJson(`${declaring.url}/api/predict`, { text: '@bob see https://b.example/2 tonight' });
  t.equal(first.headers.get('x-cache'), 'miss');
  t.equal(second.headers.get('x-cache'), 'hit', 'another mention and link: the same text to the model, answered from the cache');
  t.same(second.body, first.body);
});

t.test('an unknown step is an error of the model folder, at start-up', async (t) => {
  await t.rejects(startTestService({ MODEL_PATH: robertaWith(['lowercase_everything']) }), {
    message: /text_preprocessing step 'lowercase_everything' is unknown; known steps: twitter_user_http/,
  });
  const dir = robertaWith(undefined);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), text_preprocessing: [3] }));
  await t.rejects(startTestService({ MODEL_PATH: dir }), { message: /text_preprocessing in .* must be a step name or a list of step names/ });
});
