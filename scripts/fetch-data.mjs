// `npm run data`: downloads the TweetEval sentiment task (Barbieri et al., 2020; from SemEval-2017 Task 4A;
// CC BY 3.0, and Twitter's terms) from the public cardiffnlp/tweeteval repository on GitHub and writes the
// JSON-lines files training reads: one `{"text":"…","label":"negative|neutral|positive"}` a line, as in
// data/tweeteval-sentiment/ (which commits validation.jsonl and train.jsonl.gz, so tests and benchmarks need
// no download; this is the way back to the source).
//   npm run data                        # train.jsonl and validation.jsonl into data/tweeteval-sentiment
//   DATA_DIR=/data/tweeteval npm run data
//   npm run data -- --with-test         # test.jsonl too (the split the shipped model is judged on)
// Plain Node (its fetch), no dependencies.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const SOURCE = 'https://raw.githubusercontent.com/cardiffnlp/tweeteval/main/datasets/sentiment';
/** TweetEval's split names and the file names this project reads. */
export const SPLITS = { train: 'train.jsonl', val: 'validation.jsonl', test: 'test.jsonl' };
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DIR = resolve(ROOT, 'data/tweeteval-sentiment');

/** mapping.txt: `0\tnegative` lines → ['negative', …] indexed by label id. */
export function parseMapping(text) {
  const names = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [id, name] = line.trim().split(/\s+/);
    if (!/^\d+$/.test(id ?? '') || !name) throw new Error(`mapping.txt: cannot read line '${line}'`);
    names[Number(id)] = name;
  }
  return names;
}

const lines = (text) => text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');

/**
 * One split's text and label files → the JSON-lines text. TweetEval's texts end with a space; it is dropped
 * (as in the project's copy), nothing else is changed: `@user` mentions and quotes stay as published.
 */
export function toJsonl(textFile, labelFile, mapping) {
  const texts = lines(textFile);
  const labels = lines(labelFile);
  if (texts.length !== labels.length) throw new Error(`${texts.length} texts but ${labels.length} labels`);
  return texts.map((text, i) => {
    const label = mapping[Number(labels[i].trim())];
    if (label === undefined || !/^\d+$/.test(labels[i].trim())) throw new Error(`line ${i + 1}: unknown label '${labels[i]}'`);
    return `${JSON.stringify({ text: text.trimEnd(), label })}\n`;
  }).join('');
}

async function download(name) {
  const url = `${SOURCE}/${name}`;
  let response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    const cause = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
    throw new Error(`cannot download ${url} (${cause}): this machine cannot reach GitHub; copy the files from a machine that can (DATA_DIR says where they go)`, { cause: error });
  }
  if (!response.ok) throw new Error(`cannot download ${url}: HTTP ${response.status}`);
  return response.text();
}

async function main() {
  const dir = resolve(process.env.DATA_DIR || DEFAULT_DIR);
  const splits = process.argv.includes('--with-test') ? ['train', 'val', 'test'] : ['train', 'val'];
  const mapping = parseMapping(await download('mapping.txt'));
  mkdirSync(dir, { recursive: true });
  for (const split of splits) {
    const [texts, labels] = await Promise.all([download(`${split}_text.txt`), download(`${split}_labels.txt`)]);
    const out = resolve(dir, SPLITS[split]);
    const jsonl = toJsonl(texts, labels, mapping);
    // Whole or not at all: a reader never sees half a file.
    writeFileSync(`${out}.tmp`, jsonl);
    renameSync(`${out}.tmp`, out);
    console.log(`${out}: ${jsonl.split('\n').length - 1} tweets`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`npm run data: ${error.message}`);
    process.exit(1);
  });
}
