// `npm run data`'s conversion (scripts/fetch-data.mjs): TweetEval's published text/label files become exactly
// the JSON lines training and benchmarks read. Checked on an in-memory sample built from the project's own
// copy of the data: converted back, it must be the same bytes. No download.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseMapping, toJsonl } from '../../scripts/fetch-data.mjs';
import { VALIDATION } from '../helpers/data.js';

const MAPPING = '0\tnegative\n1\tneutral\n2\tpositive\n';

t.test('mapping.txt gives the label names by id', async (t) => {
  t.same(parseMapping(MAPPING), ['negative', 'neutral', 'positive']);
  t.throws(() => parseMapping('zero negative\n'), /cannot read line/);
});

t.test('TweetEval text and label files → the repository\'s JSON lines, byte for byte', async (t) => {
  const original = readFileSync(VALIDATION, 'utf8').split('\n').slice(0, 40).map((line) => `${line}\n`);
  const rows = original.map((line) => JSON.parse(line) as { text: string; label: string });
  t.ok(rows.some((row) => row.text.startsWith('"')) && rows.some((row) => row.text.includes('@user')), 'the sample has quoted texts and @user mentions');
  // As TweetEval publishes them: one text a line ending in a space, one label id a line.
  const textFile = rows.map((row) => `${row.text} \n`).join('');
  const labelFile = rows.map((row) => `${['negative', 'neutral', 'positive'].indexOf(row.label)}\n`).join('');
  t.equal(toJsonl(textFile, labelFile, parseMapping(MAPPING)), original.join(''));
  t.equal(toJsonl('a tweet \r\n', '2\r\n', parseMapping(MAPPING)), '{"text":"a tweet","label":"positive"}\n', 'Windows line ends too');
});

t.test('files that do not match are refused, not half converted', async (t) => {
  t.throws(() => toJsonl('one\ntwo\n', '0\n', parseMapping(MAPPING)), /2 texts but 1 labels/);
  t.throws(() => toJsonl('one\n', '7\n', parseMapping(MAPPING)), /line 1: unknown label '7'/);
});
