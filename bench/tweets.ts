// The load's texts: the real validation tweets of the training data, drawn in a random (seeded) order.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BENCH_ROOT } from './paths.js';

/** The 2,000 TweetEval validation tweets (data/tweeteval-sentiment/README.md: source and licence). */
export const DEFAULT_TWEETS = resolve(BENCH_ROOT, 'data/tweeteval-sentiment/validation.jsonl');
/** The 45,615 training tweets, gzip-compressed in the repository. */
export const TRAIN_TWEETS = resolve(BENCH_ROOT, 'data/tweeteval-sentiment/train.jsonl.gz');

/** The texts of a JSON-lines file (a `.gz` one is unpacked first). */
export function loadTweets(path = DEFAULT_TWEETS): string[] {
  const bytes = readFileSync(path);
  const texts = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8').split('\n').filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text?: unknown }).text)
    .filter((text): text is string => typeof text === 'string' && /\S/.test(text));
  if (texts.length === 0) throw new Error(`no tweets in ${path}`);
  return texts;
}

/** mulberry32: a small, fast, seeded PRNG, so that a run's sequence of tweets can be repeated. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The single/batch mix of the load: each call is a batch call with probability `batchShare`. */
export interface Mix {
  /** 0 = only POST /api/predict; 1 = only POST /api/predict/batch. */
  batchShare: number;
  /** Texts per batch call, uniform in [batchMin, batchMax]. */
  batchMin: number;
  batchMax: number;
}

export const SINGLE_ONLY: Mix = { batchShare: 0, batchMin: 2, batchMax: 16 };

/** "0", "0.1", "0.1:8", "0.25:2-32" → Mix (share[:size or min-max]). */
export function parseMix(text: string): Mix {
  const match = /^\s*(\d*\.?\d+)(?::(\d+)(?:-(\d+))?)?\s*$/.exec(text);
  if (!match) throw new Error(`--mix must be SHARE[:SIZE|:MIN-MAX] (e.g. 0.1:2-16), got '${text}'`);
  const batchShare = Number(match[1]);
  const batchMin = match[2] !== undefined ? Number(match[2]) : SINGLE_ONLY.batchMin;
  const batchMax = match[3] !== undefined ? Number(match[3]) : match[2] !== undefined ? batchMin : SINGLE_ONLY.batchMax;
  if (!(batchShare >= 0 && batchShare <= 1) || batchMin < 1 || batchMax < batchMin) throw new Error(`bad --mix '${text}'`);
  return { batchShare, batchMin, batchMax };
}

export function describeMix(mix: Mix): string {
  if (mix.batchShare === 0) return 'single texts only (POST /api/predict)';
  const size = mix.batchMin === mix.batchMax ? `${mix.batchMin}` : `${mix.batchMin}-${mix.batchMax}`;
  return `${Math.round((1 - mix.batchShare) * 100)}% single, ${Math.round(mix.batchShare * 100)}% batch calls of ${size} texts`;
}

/** Which protocol a call speaks: the service's own /api/predict*, TEI's /predict, V2's infer, the HF task route. */
export type CallKind = 'api' | 'tei' | 'v2' | 'hf';

export interface Call {
  path: string;
  body: string;
  texts: number;
  kind: CallKind;
  /** Several texts (a batch call in the route's own form); the answer is a list. */
  batch: boolean;
}

const PROTOCOLS: CallKind[] = ['tei', 'v2', 'hf'];

/** The same texts as a call of another protocol (the model is addressed by its V2 alias, whatever it is). */
export function protocolCall(kind: CallKind, texts: string[], batch: boolean, explain = false): Call {
  const n = texts.length;
  switch (kind) {
    case 'tei': return { kind, batch, texts: n, path: '/predict', body: JSON.stringify({ inputs: batch ? texts.map((text) => [text]) : texts[0] }) };
    case 'v2': return { kind, batch, texts: n, path: '/v2/models/sentiment/infer', body: JSON.stringify({ inputs: [{ name: 'text', shape: [n], datatype: 'BYTES', data: texts }] }) };
    case 'hf': return { kind, batch, texts: n, path: '/hf/text-classification', body: JSON.stringify({ inputs: batch ? texts : texts[0] }) };
    case 'api':
    default: {
      // Only the service's own routes explain.
      const extra = explain ? { explain: true } : {};
      return batch
        ? { kind, batch, texts: n, path: '/api/predict/batch', body: JSON.stringify({ texts, ...extra }) }
        : { kind, batch, texts: n, path: '/api/predict', body: JSON.stringify({ text: texts[0], ...extra }) };
    }
  }
}

/** Draws the calls of a load: which route, which tweets. */
export class CallSource {
  readonly #texts: readonly string[];
  readonly #mix: Mix;
  readonly #random: () => number;
  readonly #protocolShare: number;
  readonly #explain: boolean;

  /**
   * `protocolShare`: the fraction of calls sent as TEI, V2 or HF task calls (in equal parts) instead of
   * /api/predict*; `explain`: the /api/predict* calls ask for explanations.
   */
  constructor(texts: readonly string[], mix: Mix, seed = 1, protocolShare = 0, explain = false) {
    this.#texts = texts;
    this.#mix = mix;
    this.#random = rng(seed);
    this.#protocolShare = protocolShare;
    this.#explain = explain;
  }

  next(): Call {
    const random = this.#random;
    const tweet = () => this.#texts[Math.floor(random() * this.#texts.length)]!;
    const batch = this.#mix.batchShare > 0 && random() < this.#mix.batchShare;
    const n = batch ? this.#mix.batchMin + Math.floor(random() * (this.#mix.batchMax - this.#mix.batchMin + 1)) : 1;
    const texts = Array.from({ length: n }, tweet);
    // Drawn only when asked for, so that a load without protocols repeats the sequences of earlier runs.
    const kind = this.#protocolShare > 0 && random() < this.#protocolShare ? PROTOCOLS[Math.floor(random() * PROTOCOLS.length)]! : 'api';
    return protocolCall(kind, texts, batch, this.#explain);
  }
}
