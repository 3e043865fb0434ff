// The command line's flags (node:util parseArgs), checked once into a plain object.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { detectFormat, positiveIntegerFlag, UsageError, type InputFormat } from './inputs.js';
import { detectOutputFormat, type OutputFormat } from './outputs.js';

export const USAGE = `usage: tweet-sentiment score [FILE|-] [options]     (or: npm run score -- [FILE|-] [options])

Scores every tweet of FILE (stdin for - or none) and writes one output record per input record, in order.

input:
  --format jsonl|csv|text  input format (default: from the extension: .jsonl/.ndjson, .csv, else text)
  --column NAME            JSONL field or CSV column holding the text (default: text)
output:
  --out FILE               write here instead of stdout
  --output-format jsonl|csv  (default: from --out's extension, else the input's: CSV stays CSV, else JSONL)
  --resume                 with --out: skip the input records already in FILE (a killed run continues)
where:
  (default)                in this process: the model at --model or MODEL_PATH, no HTTP
  --model DIR              model directory for in-process scoring (default: MODEL_PATH, else the shipped model)
  --url http://host:port   through a running service's POST /api/predict/stream instead
  --api-key KEY            API key for --url (default: TWEET_SENTIMENT_API_KEY)
  --retries N              attempts when the service answers 503 or 429 or the connection is lost (default 10)
other:
  --quiet                  no progress bar, no summary
  -h, --help

JSONL output: the input object + label, score, scores, truncated (or + error {code, message}).
CSV output: the input columns + label, score, one column per label, truncated, error_code, error_message.
Environment settings of the service (WORKERS, MAX_BATCH_SIZE, MAX_TEXT_CHARS, ...) apply in-process too.
Exit status: 0 done (lines with errors are counted in the summary), 1 failure, 2 usage, 130 interrupted.`;

export interface CliOptions {
  input: string | undefined;
  inputFormat: InputFormat;
  column: string;
  out: string | undefined;
  outputFormat: OutputFormat;
  resume: boolean;
  model: string | undefined;
  url: string | undefined;
  apiKey: string | undefined;
  retries: number;
  quiet: boolean;
}

export function parseCliArgs(argv: string[], env: Record<string, string | undefined>): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string' }, column: { type: 'string' }, out: { type: 'string', short: 'o' },
        'output-format': { type: 'string' }, resume: { type: 'boolean' }, model: { type: 'string' },
        url: { type: 'string' }, 'api-key': { type: 'string' }, retries: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, input, ...extra] = positionals;
  if (command !== 'score') throw new UsageError(command === undefined ? 'missing command: score or quantize' : `unknown command '${command}' (the commands are: score, quantize)`);
  if (extra.length > 0) throw new UsageError(`one input at most, got: ${[input, ...extra].join(' ')}`);
  const inputFormat = detectFormat(input, values.format);
  const out = values.out === '-' ? undefined : values.out;
  if (values.resume && out === undefined) throw new UsageError('--resume needs --out FILE (the output it continues)');
  if (values.url !== undefined && values.model !== undefined) throw new UsageError('--model is for in-process scoring; with --url the service serves its own model');
  if (values.url !== undefined && !/^https?:\/\//.test(values.url)) throw new UsageError(`--url must be http://host:port or https://…, got '${values.url}'`);
  const retries = positiveIntegerFlag('retries', values.retries) ?? 10;
  let outputFormat: OutputFormat;
  try {
    outputFormat = detectOutputFormat(out, values['output-format'], inputFormat);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    input: input === '-' ? undefined : input,
    inputFormat,
    column: values.column ?? 'text',
    out,
    outputFormat,
    resume: values.resume === true,
    model: values.model === undefined ? undefined : resolve(values.model),
    url: values.url,
    apiKey: values['api-key'] ?? env.TWEET_SENTIMENT_API_KEY,
    retries,
    quiet: values.quiet === true,
  };
}
