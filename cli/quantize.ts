// `tweet-sentiment quantize DIR` (`npm run quantize -- DIR`): the command line of quantize/command.ts.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CHECK_TEXTS, DEFAULT_WEIGHTS, quantize, type QuantizeResult } from '../quantize/command.js';
import { positiveIntegerFlag, UsageError } from './inputs.js';

export const QUANTIZE_USAGE = `usage: tweet-sentiment quantize DIR [options]     (or: npm run quantize -- DIR [options])

Writes the dynamic int8 file of the model in DIR (its model.onnx, at the top or in onnx/) as
model_quantized.onnx beside it, served with MODEL_DTYPE=q8; then runs both files on real tweets and
reports the largest probability difference and how often the labels agree.

  --out FILE          write here instead
  --texts FILE        the tweets of the report: JSONL with "text", or one a line
                      (default: ${DEFAULT_CHECK_TEXTS})
  --limit N           at most N of them
  --no-check          no report
  --threads N         ONNX Runtime threads for the report
  --weights s8|u8     weight type (default s8: ONNX Runtime's fast u8 × s8 kernels; u8 takes its slower u8 × u8 ones)
  --per-tensor        one scale per weight matrix (default: one per output column)
  --full-range        8-bit s8 weights (default 7-bit: no int16 saturation on x86 CPUs without VNNI)
  --json              the result as JSON on stdout
  -h, --help
Exit status: 0 written, 1 failure, 2 usage.`;

interface QuantizeCliOptions {
  model: string;
  out: string | undefined;
  texts: string | null;
  limit: number | undefined;
  threads: number | undefined;
  json: boolean;
  weights: { type: 's8' | 'u8'; perChannel: boolean; reduceRange: boolean };
}

/** The flags; node:util's parse errors (unknown flag, missing value) are usage errors too (isUsageError). */
export function parseQuantizeArgs(argv: string[]): QuantizeCliOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' }, texts: { type: 'string' }, limit: { type: 'string' }, 'no-check': { type: 'boolean' },
      threads: { type: 'string' }, weights: { type: 'string' }, 'per-tensor': { type: 'boolean' }, 'full-range': { type: 'boolean' },
      json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing the model directory' : `one model directory, got: ${positionals.join(' ')}`);
  const type = values.weights ?? DEFAULT_WEIGHTS.type;
  if (type !== 's8' && type !== 'u8') throw new UsageError(`--weights must be s8 or u8, got '${type}'`);
  if (values['no-check'] && (values.texts !== undefined || values.limit !== undefined)) throw new UsageError('--no-check runs no report: --texts and --limit are for the report');
  return {
    model: resolve(positionals[0]!),
    out: values.out,
    texts: values['no-check'] ? null : resolve(values.texts ?? DEFAULT_CHECK_TEXTS),
    limit: positiveIntegerFlag('limit', values.limit),
    threads: positiveIntegerFlag('threads', values.threads),
    json: values.json === true,
    weights: { type, perChannel: !values['per-tensor'], reduceRange: type === 's8' && !values['full-range'] },
  };
}

function describe(result: QuantizeResult): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const { weights, summary, check } = result;
  const lines = [
    `${result.output}: ${summary.quantized} MatMul/Gemm weights to ${weights.type}${weights.reduceRange ? ' (7-bit)' : ''}, ` +
      `${weights.perChannel ? 'one scale per output column' : 'one scale per matrix'}; ${mib(result.bytes.source)} → ${mib(result.bytes.output)} in ${(result.ms / 1000).toFixed(1)} s`,
  ];
  if (check !== null) {
    lines.push(`against ${result.source} on ${check.count} texts of ${check.texts}: largest probability difference ${check.maxProbDiff.toFixed(4)}, ` +
      `labels agree on ${(check.labelAgreement * 100).toFixed(2)}% (${check.disagreements} differ)`);
  }
  lines.push(`serve it with MODEL_DTYPE=q8`);
  return lines.join('\n');
}

function isUsageError(error: unknown): error is Error {
  return error instanceof UsageError || /^ERR_PARSE_ARGS_/.test(String((error as NodeJS.ErrnoException).code));
}

/** Runs the subcommand; returns the exit status. */
export async function runQuantizeCli(argv: string[]): Promise<number> {
  try {
    const options = parseQuantizeArgs(argv);
    if (options === 'help') {
      process.stdout.write(`${QUANTIZE_USAGE}\n`);
      return 0;
    }
    const result = await quantize({
      model: options.model, out: options.out, weights: options.weights, checkTexts: options.texts, threads: options.threads,
      ...(options.limit !== undefined ? { checkLimit: options.limit } : {}),
    });
    process.stderr.write(`${describe(result)}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    const usage = isUsageError(error);
    process.stderr.write(usage ? `${error.message}\n\n${QUANTIZE_USAGE}\n` : `tweet-sentiment quantize: ${(error as Error).message}\n`);
    return usage ? 2 : 1;
  }
}
