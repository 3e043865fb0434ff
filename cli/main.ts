#!/usr/bin/env node
// The `tweet-sentiment` command (package.json "bin"; `npm run score -- ...`): parses the flags and runs the
// score command (or hands `quantize` to cli/quantize.ts); usage errors exit 2 with the usage text, failures
// exit 1 with one line.
import { parseCliArgs, USAGE } from './args.js';
import { UsageError } from './inputs.js';
import { runScore } from './score.js';

async function main(): Promise<number> {
  // quantize has its own flags (cli/quantize.ts), loaded only when asked for.
  if (process.argv[2] === 'quantize') return (await import('./quantize.js')).runQuantizeCli(process.argv.slice(3));
  let options;
  try {
    options = parseCliArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await runScore(options, process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`tweet-sentiment: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
