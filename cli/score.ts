// `tweet-sentiment score`: input records → in-process or remote scorer → output records, with the progress
// bar, the summary, --resume and Ctrl-C. Both scorers yield runs of answers in input order; this loop writes
// each run whole, so the output is at every moment a valid prefix of the complete one.
import { statSync } from 'node:fs';
import { pino } from 'pino';
import { loadConfig } from '../core/config.js';
import { startEngine, type Engine } from '../core/engine.js';
import type { CliOptions } from './args.js';
import { openInput, type InputRecord } from './inputs.js';
import { scoreLocally } from './local-scorer.js';
import { openOutput, type Scored } from './outputs.js';
import { startProgress, Tally } from './progress.js';
import type { HeadShape } from '../core/rest-prediction.js';
import { remoteModel, scoreRemotely } from './remote-scorer.js';
import { cutAt, findResumePoint, type ResumePoint } from './resume.js';

/** Lines of the input longer than this are refused (BODY_LIMIT of the service, whose line limit this is). */
const DEFAULT_LINE_LIMIT = 2_097_152;

export async function runScore(options: CliOptions, env: Record<string, string | undefined>): Promise<number> {
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    // The first Ctrl-C stops cleanly (whole records kept); a second one exits at once (still whole records).
    if (++interrupts > 1) process.exit(130);
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);

  let engine: Engine | undefined;
  const onRetry = (reason: string, seconds: number) => { if (!options.quiet) process.stderr.write(`${reason}; retrying in ${seconds} s\n`); };
  try {
    let model: HeadShape;
    let lineLimit = DEFAULT_LINE_LIMIT;
    if (options.url === undefined) {
      const config = loadConfig({ LOG_LEVEL: 'warn', ...env, ...(options.model !== undefined ? { MODEL_PATH: options.model } : {}) }, []);
      lineLimit = config.bodyLimit;
      engine = await startEngine(config, pino({ level: config.logLevel }, pino.destination(2)));
      model = engine.predictor.model;
    } else {
      model = await remoteModel(options.url, options.apiKey, { attempts: options.retries, signal: interrupt.signal, onRetry });
    }

    let point: ResumePoint = { records: 0, bytes: 0, header: undefined };
    if (options.resume && options.out !== undefined) {
      point = await findResumePoint(options.out, options.outputFormat);
      cutAt(options.out, point);
    }
    const size = options.input === undefined ? undefined : statSync(options.input).size;
    const input = openInput(options.input, options.inputFormat, options.column, size, lineLimit);
    // The CSV header is parsed before the first record, so it is known by the first write.
    let headerColumns: string[] | undefined;
    void input.columns().then((columns) => { headerColumns = columns; });
    const output = openOutput({ path: options.out, format: options.outputFormat, model, append: point.bytes > 0, columns: () => point.header ?? headerColumns });

    const tally = new Tally();
    tally.skipped = point.records;
    const showBar = !options.quiet && process.stderr.isTTY === true && !(options.out === undefined && process.stdout.isTTY === true);
    const progress = startProgress(showBar, input.totalBytes);
    const records = skip(input.records, point.records);
    const signal = interrupt.signal;
    signal.addEventListener('abort', () => input.close(), { once: true });
    const runs: AsyncGenerator<Scored[]> = engine !== undefined
      ? scoreLocally(engine.predictor, records, { bodyLimit: lineLimit, signal })
      : scoreRemotely(records, {
        url: options.url!, apiKey: options.apiKey, signal, attempts: options.retries,
        onRetry,
      });
    try {
      for await (const run of runs) {
        // Answers that come after Ctrl-C (the texts it dropped) are not written: the output stays a prefix.
        if (signal.aborted) break;
        await output.write(run);
        tally.count(run);
        progress.update(tally, input.bytesRead());
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      progress.stop();
      input.close();
      await output.close();
    }
    if (!options.quiet) process.stderr.write(tally.summary(model.labels, signal.aborted));
    return signal.aborted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await engine?.close();
  }
}

async function* skip(records: AsyncIterable<InputRecord>, count: number): AsyncGenerator<InputRecord> {
  let seen = 0;
  for await (const record of records) {
    if (seen++ < count) continue;
    yield record;
  }
}
