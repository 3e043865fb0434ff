// A user's own RoBERTa export served with MODEL_PATH and no code change: the running service's
// tokenizer path gives, for every reference text, the ids the Rust `tokenizers` library gives with the real
// Twitter RoBERTa tokenizer. test/fixtures/roberta-tiny is that tokenizer (byte for byte
// data/hf-tokenizers/twitter-roberta/tokenizer.json) over a tiny random graph with RoBERTa's inputs (no token_type_ids), so
// CI needs neither torch nor the 499 MB model.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { HF_TOKENIZERS } from '../helpers/data.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';

const REFERENCE = `${HF_TOKENIZERS}twitter-roberta/`;
const references = readFileSync(`${REFERENCE}reference-ids.jsonl`, 'utf8').trim().split('\n')
  .map((line) => JSON.parse(line) as { text: string; ids: number[] });
const CHUNK = 64;

// MAX_TOKENS 48 (below the model's 512) so that some tweets are cut: /tokenize never truncates, predictions do.
const MAX_TOKENS = 48;
const server = await startTestService({ MODEL_PATH: `${FIXTURES}roberta-tiny`, MAX_CLIENT_BATCH: String(CHUNK), MAX_TOKENS: String(MAX_TOKENS) });
t.teardown(() => server.close());

t.test('the fixture tokenizer is the real twitter-roberta one', async (t) => {
  t.equal(readFileSync(`${FIXTURES}roberta-tiny/tokenizer.json`, 'utf8'), readFileSync(`${REFERENCE}tokenizer.json`, 'utf8'));
  const model = await getJson(`${server.url}/api/model`);
  t.equal(model.body.name, 'roberta-tiny-fixture');
});

// Every route refuses an empty or whitespace-only text (400 Validation): the reference's "" and " ".
const texts = references.filter((ref) => ref.text.trim() !== '');

t.test('POST /tokenize: the reference ids of every other reference text', async (t) => {
  t.ok(texts.length >= 2000, `${texts.length} texts`);
  const mismatched: string[] = [];
  for (let start = 0; start < texts.length; start += CHUNK) {
    const chunk = texts.slice(start, start + CHUNK);
    const res = await postJson(`${server.url}/tokenize`, { inputs: chunk.map((ref) => ref.text) });
    t.equal(res.status, 200);
    (res.body as { id: number }[][]).forEach((tokens, i) => {
      if (JSON.stringify(tokens.map((token) => token.id)) !== JSON.stringify(chunk[i]!.ids)) mismatched.push(chunk[i]!.text.slice(0, 40));
    });
  }
  t.same(mismatched, [], 'no text tokenized differently');
  for (const ref of references.filter((r) => r.text.trim() === '')) {
    t.equal((await postJson(`${server.url}/tokenize`, { inputs: ref.text })).status, 400, `${JSON.stringify(ref.text)} is refused`);
  }
});

t.test('predictions: a text is flagged truncated exactly when its reference ids exceed the model\'s limit', async (t) => {
  const maxTokens = (await getJson(`${server.url}/api/model`)).body.maxTokens as number;
  t.equal(maxTokens, MAX_TOKENS);
  const wrong: string[] = [];
  for (let start = 0; start < texts.length; start += CHUNK) {
    const chunk = texts.slice(start, start + CHUNK);
    const res = await postJson(`${server.url}/api/predict/batch`, { texts: chunk.map((ref) => ref.text) });
    t.equal(res.status, 200);
    (res.body.predictions as { truncated: boolean }[]).forEach((prediction, i) => {
      if (prediction.truncated !== chunk[i]!.ids.length > maxTokens) wrong.push(chunk[i]!.text.slice(0, 40));
    });
  }
  t.same(wrong, []);
  t.ok(texts.some((ref) => ref.ids.length > maxTokens), `${texts.filter((ref) => ref.ids.length > maxTokens).length} reference texts are longer than the service reads`);
});
