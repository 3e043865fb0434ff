// The service must tokenize a user's own Hugging Face export exactly as the reference Rust `tokenizers`
// library does. Two real tokenizers (byte-level BPE and WordPiece) against the ids Rust produced for all
// 2,017 reference texts (validation tweets plus hard cases: emoji, CJK, accents, bidi marks, 3,000 chars).
import { readFileSync, existsSync } from 'node:fs';
import t from 'tap';
import { TextTokenizer } from '../../inference/tokenizer.js';
import { HF_TOKENIZERS as TOKENIZERS } from '../helpers/data.js';

function load(name: string, maxTokens: number) {
  const dir = `${TOKENIZERS}${name}/`;
  const config = existsSync(`${dir}tokenizer_config.json`) ? JSON.parse(readFileSync(`${dir}tokenizer_config.json`, 'utf8')) : {};
  return new TextTokenizer(JSON.parse(readFileSync(`${dir}tokenizer.json`, 'utf8')), config, maxTokens);
}

for (const name of ['twitter-roberta', 'bert-base-uncased']) {
  t.test(`${name}: the exact reference ids on every text`, async (t) => {
    const tokenizer = load(name, 1_000_000);
    const references = readFileSync(`${TOKENIZERS}${name}/reference-ids.jsonl`, 'utf8').trim().split('\n')
      .map((line) => JSON.parse(line) as { text: string; ids: number[] });
    t.equal(references.length, 2017);
    const mismatched = references.filter((ref) => JSON.stringify(tokenizer.encode(ref.text).ids) !== JSON.stringify(ref.ids));
    t.equal(mismatched.length, 0, `mismatches: ${mismatched.slice(0, 3).map((ref) => JSON.stringify(ref.text)).join(', ')}`);
  });

  t.test(`${name}: truncation keeps the special tokens, as Rust's longest_first truncation does`, async (t) => {
    const tokenizer = load(name, 16);
    const references = readFileSync(`${TOKENIZERS}${name}/reference-ids.jsonl`, 'utf8').trim().split('\n')
      .map((line) => JSON.parse(line) as { text: string; ids: number[] });
    let checked = 0;
    for (const ref of references) {
      const encoded = tokenizer.encode(ref.text);
      if (ref.ids.length <= 16) {
        t.equal(encoded.truncated, false);
        continue;
      }
      checked++;
      // [first special] + the first 14 content tokens + [last special]
      const expected = [...ref.ids.slice(0, 15), ref.ids.at(-1)!];
      if (JSON.stringify(encoded.ids) !== JSON.stringify(expected) || !encoded.truncated) {
        t.fail(`truncated ${JSON.stringify(ref.text.slice(0, 40))}`);
        return;
      }
    }
    t.ok(checked > 100, `${checked} long texts truncated correctly`);
  });
}

t.test('the pad id comes from the tokenizer files', async (t) => {
  t.equal(load('twitter-roberta', 512).padId, 1, '<pad> is 1 in RoBERTa');
  t.equal(load('bert-base-uncased', 512).padId, 0, '[PAD] is 0 in BERT');
});

t.test('maxTokens must leave room for text beside the special tokens', async (t) => {
  t.throws(() => load('bert-base-uncased', 2), RangeError);
  t.doesNotThrow(() => load('bert-base-uncased', 3));
});
