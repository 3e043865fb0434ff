// Where things are, whether this file runs from bench/ (tsx) or from dist/bench/ (compiled).
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const BENCH_ROOT = basename(dirname(here)) === 'dist' ? resolve(here, '../..') : resolve(here, '..');
export const RESULTS_DIR = resolve(BENCH_ROOT, 'bench/results');
export const DEFAULT_MODEL = resolve(BENCH_ROOT, 'models/twitter-sentiment');
export const FIXTURE_MODEL = resolve(BENCH_ROOT, 'test/fixtures/bert-tiny');
