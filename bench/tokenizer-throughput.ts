// R_tok: the tokenizer alone on the same cores, the other ceiling of bulk scoring (every text is tokenized
// before it is batched). --threads worker threads each hold the service's TextTokenizer for the model and
// encode the tweets in a loop, as the service's tokenizer workers do, for --seconds after --warmup; prints
// one JSON object with the total tweets per second.
//
//   npx tsx bench/tokenizer-throughput.ts --model models/twitter-sentiment --threads 2 --seconds 10
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { loadModelFiles } from '../inference/model-files.js';
import { BENCH_ROOT } from './paths.js';
import { DEFAULT_TWEETS, loadTweets } from './tweets.js';

// Plain CommonJS evaluated from a string (as bench/ort-throughput.ts does), loading the compiled tokenizer
// from dist/ (npm run bench builds first), so that it runs the same under tsx and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { TextTokenizer } = await import(workerData.tokenizerUrl);
  const tokenizer = new TextTokenizer(workerData.tokenizerJson, workerData.tokenizerConfig, workerData.maxTokens);
  const texts = workerData.texts;
  let k = workerData.offset % texts.length;
  const warmEnd = performance.now() + workerData.warmup * 1000;
  while (performance.now() < warmEnd) tokenizer.encode(texts[k++ % texts.length]);
  let tweets = 0;
  let tokens = 0;
  const start = performance.now();
  const end = start + workerData.seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) tokens += tokenizer.encode(texts[k++ % texts.length]).ids.length;
    tweets += 64;
  }
  parentPort.postMessage({ tweets, tokens, seconds: (performance.now() - start) / 1000 });
})().catch((error) => { throw error; });
`;

export interface TokenizerThroughput {
  tweetsPerSecond: number;
  tokensPerTweet: number;
  threads: number;
  seconds: number;
}

export async function tokenizerThroughput(options: { model: string; threads: number; seconds: number; warmup?: number; data?: string }): Promise<TokenizerThroughput> {
  const files = loadModelFiles(options.model, {});
  const texts = loadTweets(options.data ?? DEFAULT_TWEETS);
  const tokenizerUrl = pathToFileURL(resolve(BENCH_ROOT, 'dist/inference/tokenizer.js')).href;
  const workers = Array.from({ length: options.threads }, (_, i) => new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      tokenizerUrl, tokenizerJson: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig, maxTokens: files.maxTokens,
      texts, offset: Math.floor((i * texts.length) / options.threads), seconds: options.seconds, warmup: options.warmup ?? 1,
    },
  }));
  const results = await Promise.all(workers.map((worker) => new Promise<{ tweets: number; tokens: number; seconds: number }>((resolveResult, reject) => {
    worker.once('message', resolveResult);
    worker.once('error', reject);
  })));
  await Promise.all(workers.map((worker) => worker.terminate()));
  const tweets = results.reduce((sum, r) => sum + r.tweets, 0);
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
  const seconds = Math.max(...results.map((r) => r.seconds));
  return { tweetsPerSecond: tweets / seconds, tokensPerTweet: tokens / tweets, threads: options.threads, seconds };
}

if (process.argv[1]?.endsWith('tokenizer-throughput.ts') || process.argv[1]?.endsWith('tokenizer-throughput.js')) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/twitter-sentiment' },
      data: { type: 'string', default: DEFAULT_TWEETS },
      threads: { type: 'string', default: String(availableParallelism()) },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
    },
  });
  const result = await tokenizerThroughput({
    model: resolve(values.model), data: values.data, threads: Number(values.threads), seconds: Number(values.seconds), warmup: Number(values.warmup),
  });
  console.log(JSON.stringify(result, null, 2));
}
