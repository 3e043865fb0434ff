// The tokenizer the server uses gives exactly the ids the model was trained on, and normalizes tweets
// the way the model card says.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFiles } from '../../inference/model-files.js';
import { TextTokenizer } from '../../inference/tokenizer.js';
import { TRAIN_GZ, VALIDATION, jsonLines, textOf } from '../helpers/data.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'models', 'twitter-sentiment');

const files = loadModelFiles(MODEL_DIR);
const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
const metrics = JSON.parse(readFileSync(join(MODEL_DIR, 'metrics.json'), 'utf8')) as { token_ids_sha256: Record<string, string> };
const ids = (text: string) => tokenizer.encode(text).ids;

t.test('re-tokenizing the training data gives the ids training saw (sha256 over all of them)', async (t) => {
  for (const [split, file] of [['train', TRAIN_GZ], ['validation', VALIDATION]] as const) {
    const all = jsonLines(file).map((line) => ids(textOf(line)));
    t.equal(all.length, split === 'train' ? 45615 : 2000);
    const digest = createHash('sha256').update(JSON.stringify(all)).digest('hex');
    t.equal(digest, metrics.token_ids_sha256[split], `${split}: ${all.length} tweets`);
  }
});

t.test('special tokens, padding and truncation', async (t) => {
  const cls = tokenizer.encode('').ids;
  t.equal(cls.length, 2, 'an empty text is [CLS] [SEP]');
  t.equal(files.tokenizerJson.padding && (files.tokenizerJson.padding as { pad_id: number }).pad_id, tokenizer.padId);
  t.equal(tokenizer.padId, 0);
  const hello = ids('hello world');
  t.equal(hello[0], cls[0]);
  t.equal(hello[hello.length - 1], cls[1]);
  const long = tokenizer.encode('word '.repeat(500));
  t.equal(long.truncated, true);
  t.equal(long.ids.length, 128);
  t.equal(long.ids[127], cls[1], 'the closing [SEP] survives truncation');
  t.notOk(ids('hello world').includes(1), 'no [UNK] for plain English');
});

t.test('Twitter normalization', async (t) => {
  t.same(ids('@SomeUser_99 thanks!'), ids('@user thanks!'), 'mentions become @user');
  t.same(ids('look https://t.co/AbC123 now'), ids('look http now'), 'URLs become http');
  t.same(ids('www.example.com/x rocks'), ids('http rocks'));
  t.same(ids('I LOVE You'), ids('i love you'), 'lowercased');
  t.same(ids('sooooooo goooood'), ids('soo good'), 'letters repeated 3+ times are kept twice');
  t.notSame(ids('soooo'), ids('so'), 'an elongated word stays distinct from the plain one');
  t.same(ids('what!!!!!!'), ids('what!!'));
  t.same(ids('wait.....'), ids('wait...'));
  t.same(ids('hahahahaha'), ids('haha'));
  t.same(ids('can\\u2019t stop\\u002c won\\u2019t stop'), ids("can't stop, won't stop"), 'TweetEval literal escapes');
  t.same(ids('can’t'), ids("can't"), 'typographic apostrophe');
  t.same(ids('fish &amp; chips &lt;3'), ids('fish & chips <3'), 'HTML entities');
  t.same(ids('café naïve'), ids('cafe naive'), 'accents stripped');
  t.same(ids('ＨＥＬＬＯ'), ids('hello'), 'fullwidth letters folded');
  t.same(ids('I am 😂'), ids('I am haha'), 'tears of joy read as laughter');
  t.same(ids('love you ❤️'), ids('love you <3'), 'hearts read as <3');
  t.same(ids('sad 😢'), ids('sad :('));
  t.same(ids('thumbs 👍🏽'), ids('thumbs :)'), 'skin tones dropped');
});

t.test('emoticons and contractions are single tokens', async (t) => {
  for (const emoticon of [':)', ':-)', ':(', ":'(", ':D', ';)', ':P', '<3', '</3', '^_^', '-_-', ':/', '=)']) {
    t.equal(ids(emoticon).length, 3, `${emoticon} is one token`);
  }
  for (const word of ["don't", "can't", "i'm", 'love', 'hate', 'happy', 'sad']) {
    t.equal(ids(word).length, 3, `${word} is one token`);
  }
  t.equal(ids('10:30').length, 5, 'a time is not an emoticon: 10 : 30');
});
