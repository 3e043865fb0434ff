// Tokenizes the training and validation tweets with the tokenizer the server uses (TextTokenizer over
// @huggingface/tokenizers) and writes the ids PyTorch trains on, so training and serving cannot disagree.
//
//   npx tsx training/tokenize-data.ts --model models/twitter-sentiment \
//       --data data/tweeteval-sentiment --out training/work
//
// Writes <out>/ids-train.json and <out>/ids-validation.json: {texts, labels, ids, truncated, padId,
// maxTokens}; labels are indices into config.json's id2label order (negative, neutral, positive).
// With --probe FILE (a JSON array of strings) it writes the ids of those strings to --probe-out, for
// the Python tokenizer's code-point parity check (training/check_parity.py --codepoints).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TextTokenizer } from '../inference/tokenizer.js';

export const LABELS = ['negative', 'neutral', 'positive'] as const;

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/twitter-sentiment' },
    data: { type: 'string', default: 'data/tweeteval-sentiment' },
    out: { type: 'string', default: 'training/work' },
    probe: { type: 'string' },
    'probe-out': { type: 'string' },
  },
});

const modelDir = resolve(values.model);
const tokenizerJson = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const configPath = join(modelDir, 'tokenizer_config.json');
const tokenizerConfig = existsSync(configPath)
  ? JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>
  : {};
const maxTokens = typeof tokenizerConfig.model_max_length === 'number' ? tokenizerConfig.model_max_length : 128;
const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, maxTokens);

if (values.probe) {
  const probes = JSON.parse(readFileSync(values.probe, 'utf8')) as string[];
  const started = performance.now();
  const ids = probes.map((text) => tokenizer.encode(text).ids);
  writeFileSync(values['probe-out'] ?? 'training/work/probe-ids.json', JSON.stringify(ids));
  console.log(`tokenized ${probes.length} probes in ${((performance.now() - started) / 1000).toFixed(1)}s`);
} else {
  const outDir = resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const digests: Record<string, string> = {};
  for (const split of ['train', 'validation']) {
    const lines = readFileSync(join(resolve(values.data), `${split}.jsonl`), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const texts: string[] = [];
    const labels: number[] = [];
    const ids: number[][] = [];
    let truncated = 0;
    const started = performance.now();
    for (const line of lines) {
      const row = JSON.parse(line) as { text: string; label: string };
      const label = LABELS.indexOf(row.label as (typeof LABELS)[number]);
      if (label < 0) throw new Error(`unknown label ${row.label} in ${split}.jsonl`);
      const encoded = tokenizer.encode(row.text);
      texts.push(row.text);
      labels.push(label);
      ids.push(encoded.ids);
      if (encoded.truncated) truncated++;
    }
    const seconds = (performance.now() - started) / 1000;
    writeFileSync(join(outDir, `ids-${split}.json`), JSON.stringify({ texts, labels, ids, truncated, padId: tokenizer.padId, maxTokens }));
    // A fingerprint of every id the training saw, kept in metrics.json: test/unit/model-tokenizer.test.ts
    // re-tokenizes the data and must find the same one.
    digests[split] = createHash('sha256').update(JSON.stringify(ids)).digest('hex');
    const tokens = ids.reduce((n, x) => n + x.length, 0);
    console.log(`${split}: ${texts.length} tweets, ${tokens} tokens (mean ${(tokens / texts.length).toFixed(1)}, max ${Math.max(...ids.map((x) => x.length))}), ${truncated} truncated, ${seconds.toFixed(1)}s`);
  }
  writeFileSync(join(outDir, 'ids-digest.json'), JSON.stringify(digests, null, 2) + '\n');
}
