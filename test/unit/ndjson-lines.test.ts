// The line reader under the stream route and the CLI: lines split anywhere across chunks (inside a UTF-8
// character too), CRLF, a last line without its newline, and an over-long line dropped without being kept.
import t from 'tap';
import { readLines, type RawLine } from '../../bulk/ndjson-lines.js';

async function lines(chunks: (string | Buffer)[], max = 100): Promise<RawLine[]> {
  const out: RawLine[] = [];
  async function* source() { for (const chunk of chunks) yield chunk; }
  for await (const line of readLines(source(), max)) out.push(line);
  return out;
}

t.test('lines across chunk boundaries, inside a multi-byte character', async (t) => {
  const bytes = Buffer.from('héllo 😀\nsecond\r\n\nlast');
  // Every split point: the same lines whatever the chunking.
  for (let cut = 1; cut < bytes.length; cut++) {
    const got = await lines([bytes.subarray(0, cut), bytes.subarray(cut)]);
    t.same(got.map((l) => [l.number, l.text]), [[1, 'héllo 😀'], [2, 'second'], [3, ''], [4, 'last']], `split at byte ${cut}`);
  }
});

t.test('a body ending with a newline has no extra empty line', async (t) => {
  t.same((await lines(['a\nb\n'])).map((l) => l.text), ['a', 'b']);
  t.same(await lines(['']), []);
});

t.test('an over-long line is counted and dropped, the next one read', async (t) => {
  const got = await lines(['short\n', 'x'.repeat(60), 'y'.repeat(60), '\nafter\n'], 100);
  t.same(got.map((l) => [l.number, l.tooLong, l.text, l.bytes]), [[1, false, 'short', 5], [2, true, undefined, 120], [3, false, 'after', 5]]);
  const exact = await lines([`${'z'.repeat(100)}\r\n`, `${'z'.repeat(101)}\n`], 100);
  t.same(exact.map((l) => l.tooLong), [false, true], 'the limit counts the line without its CRLF');
});
