// The README's API examples are what the shipped model answers today: each `$ curl` example is sent to the
// shipped model served in this process and its printed output compared (scores to 1e-6: float32 results
// can differ in their last bits between machines). `npm run docs:examples` rewrites them.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { README, answer, format, parseExamples, startShippedModel } from '../../scripts/readme-examples.js';

const readme = readFileSync(README, 'utf8');

/** Equal, numbers to 1e-6; returns where they first differ. */
function differs(expected: unknown, actual: unknown, at = '$'): string | undefined {
  if (typeof expected === 'number' && typeof actual === 'number') return Math.abs(expected - actual) <= 1e-6 ? undefined : `${at}: ${expected} vs ${actual}`;
  if (expected !== null && actual !== null && typeof expected === 'object' && typeof actual === 'object') {
    const keys = Object.keys(expected);
    if (keys.join() !== Object.keys(actual).join()) return `${at}: keys ${keys.join(',')} vs ${Object.keys(actual).join(',')}`;
    for (const key of keys) {
      const found = differs((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${at}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return expected === actual ? undefined : `${at}: ${JSON.stringify(expected)} vs ${JSON.stringify(actual)}`;
}

t.test('the README parses into its four examples', async (t) => {
  const examples = parseExamples(readme);
  t.same(examples.map((e) => [e.path, e.withHeaders]), [['/api/predict', false], ['/api/predict/batch', false], ['/api/predict', false], ['/api/predict', true]]);
  t.same(JSON.parse(examples[2]!.body), { text: 'worst customer service ever', explain: true }, 'an explained text');
  t.same(JSON.parse(examples[1]!.body), { texts: ['what a great game tonight', 'the meeting moved to 3pm'] }, 'a continued command line is read whole');
});

t.test('every README example output is the shipped model\'s answer', async (t) => {
  const server = await startShippedModel();
  t.teardown(() => server.close());
  for (const example of parseExamples(readme)) {
    const fresh = format(example, await answer(server.url, example)).split('\n');
    const written = example.output.split('\n');
    t.equal(written.length, fresh.length, `${example.path} ${example.body}: as many lines`);
    // Header lines exactly; the JSON body (last line) by value, scores to 1e-6.
    t.same(written.slice(0, -1), fresh.slice(0, -1), `${example.path} ${example.body}: status and headers`);
    const problem = differs(JSON.parse(written.at(-1)!), JSON.parse(fresh.at(-1)!));
    t.notOk(problem, `${example.path} ${example.body}: the README's output is the model's answer (npm run docs:examples rewrites it)${problem ? `; ${problem}` : ''}`);
  }
});
