// Comparing two output files of the command line. Byte-identical is what the two modes write when the
// model gives every text the same float32 scores whatever batch it ran in; a model whose kernels round
// differently with the batch's padded shape (the shipped one: 31 of the 2,000 validation tweets differ by
// at most 6e-8 between the two modes; the test model too, now and then) changes the last digits of some scores. So: every field but the scores
// exactly equal, the scores within SCORE_TOLERANCE, and the tests also say whether the bytes were equal.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { SCORE_TOLERANCE } from './predictions.js';

export interface FileComparison {
  identical: boolean;
  /** Same records, same fields; scores within SCORE_TOLERANCE. */
  same: boolean;
  records: number;
  /** Records whose scores differ at all, and the largest difference. */
  differingScores: number;
  maxScoreDifference: number;
  firstMismatch?: string;
}

function compareRecords(a: Record<string, unknown>[], b: Record<string, unknown>[], isScore: (key: string, value: unknown) => boolean, identical: boolean): FileComparison {
  const result: FileComparison = { identical, same: a.length === b.length, records: a.length, differingScores: 0, maxScoreDifference: 0 };
  if (!result.same) result.firstMismatch = `${a.length} records against ${b.length}`;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    let differs = false;
    const keys = Object.keys(x);
    if (keys.join() !== Object.keys(y).join()) {
      result.same = false;
      result.firstMismatch ??= `record ${i + 1}: fields ${keys.join()} against ${Object.keys(y).join()}`;
      continue;
    }
    for (const key of keys) {
      const [u, v] = [x[key], y[key]];
      if (isScore(key, u) && u !== '' && v !== '') {
        const d = Math.abs(Number(u) - Number(v));
        if (d > 0) differs = true;
        result.maxScoreDifference = Math.max(result.maxScoreDifference, d);
        if (!(d <= SCORE_TOLERANCE)) { result.same = false; result.firstMismatch ??= `record ${i + 1}: ${key} ${String(u)} against ${String(v)}`; }
      } else if (JSON.stringify(u) !== JSON.stringify(v)) {
        result.same = false;
        result.firstMismatch ??= `record ${i + 1}: ${key} ${JSON.stringify(u)} against ${JSON.stringify(v)}`;
      }
    }
    if (differs) result.differingScores++;
  }
  return result;
}

export function compareJsonl(pathA: string, pathB: string): FileComparison {
  const [rawA, rawB] = [readFileSync(pathA), readFileSync(pathB)];
  const read = (raw: Buffer) => raw.toString('utf8').split('\n').filter((line) => line !== '').map((line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    // Flattened so that each label's score is compared with the tolerance.
    if (record.scores !== undefined) {
      for (const [label, value] of Object.entries(record.scores as Record<string, number>)) record[`scores.${label}`] = value;
      record.scores = Object.keys(record.scores as object);
    }
    return record;
  });
  return compareRecords(read(rawA), read(rawB), (key) => key === 'score' || key.startsWith('scores.'), rawA.equals(rawB));
}

export function compareCsv(pathA: string, pathB: string, labels: readonly string[]): FileComparison {
  const [rawA, rawB] = [readFileSync(pathA), readFileSync(pathB)];
  const read = (raw: Buffer) => parse<Record<string, unknown>>(raw, { columns: true });
  return compareRecords(read(rawA), read(rawB), (key) => key === 'score' || labels.includes(key), rawA.equals(rawB));
}

export function describe(c: FileComparison): string {
  return `${c.records} records; ${c.identical ? 'byte for byte identical' : `not byte-identical: ${c.differingScores} records' scores differ, by at most ${c.maxScoreDifference.toExponential(1)}`}${c.firstMismatch ? `; first mismatch: ${c.firstMismatch}` : ''}`;
}
