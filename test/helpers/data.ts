// The data the tests read, all inside the repository (data/ and docs/specs/, each with its source and
// licence beside it): TweetEval's tweets, two real Hugging Face tokenizers with reference ids, the specs.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const ROOT = new URL('../../', import.meta.url).pathname;
export const TWEETEVAL = `${ROOT}data/tweeteval-sentiment/`;
export const VALIDATION = `${TWEETEVAL}validation.jsonl`;
/** The 45,615 training tweets, gzip-compressed (data/tweeteval-sentiment/README.md says why). */
export const TRAIN_GZ = `${TWEETEVAL}train.jsonl.gz`;
export const HF_TOKENIZERS = `${ROOT}data/hf-tokenizers/`;
export const SPECS = `${ROOT}docs/specs/`;

/** A JSON-lines file's non-empty lines, each with its newline dropped; `.gz` files are unpacked first. */
export function jsonLines(path: string): string[] {
  const bytes = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  return text.split('\n').filter((line) => line.trim() !== '');
}

export const textOf = (line: string): string => (JSON.parse(line) as { text: string }).text;

/** The 2,000 validation tweets' texts, in file order. */
export function validationTexts(): string[] {
  return jsonLines(VALIDATION).map(textOf);
}
