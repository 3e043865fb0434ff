// The command line's outputs: JSONL (the input object + the service's prediction: label, score, scores,
// truncated; or + error) or CSV (csv-stringify: the input columns + label, score, one column per label,
// truncated, error_code, error_message; a multi-label model adds `labels`, its predicted labels joined by
// '|'; a regression has `value` in place of label and score). One output record per input record, in input order, so that the number of complete
// records in the file is where a --resume continues. Records are written in whole runs (one write per run
// of answers): an interrupted run leaves whole records, at worst one partial last line, which --resume cuts.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { HeadShape, RestPrediction as Prediction } from '../core/rest-prediction.js';
import type { LineFailure } from '../bulk/stream-input.js';
import type { InputRecord } from './inputs.js';

export type OutputFormat = 'jsonl' | 'csv';

export interface Scored {
  record: InputRecord;
  prediction?: Prediction | undefined;
  error?: LineFailure | undefined;
}

export interface OutputWriter {
  write(run: Scored[]): Promise<void>;
  /** Flushes and closes (stdout is flushed, not closed). */
  close(): Promise<void>;
}

export interface OutputOptions {
  path: string | undefined;
  format: OutputFormat;
  /** The model's labels and head: the CSV's columns. */
  model: HeadShape;
  /** Appending to a file cut at its last complete record (--resume); the CSV header is already there. */
  append: boolean;
  /** CSV only, asked at the first write: the input's columns (its CSV header, or the resumed output's); else the first record's. */
  columns(): string[] | undefined;
}

export function detectOutputFormat(path: string | undefined, explicit: string | undefined, inputFormat: string): OutputFormat {
  if (explicit === 'jsonl' || explicit === 'csv') return explicit;
  if (explicit !== undefined) throw new Error(`--output-format must be jsonl or csv, got '${explicit}'`);
  if (path !== undefined && path.toLowerCase().endsWith('.csv')) return 'csv';
  if (path !== undefined && /\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  return inputFormat === 'csv' ? 'csv' : 'jsonl';
}

export function jsonlLine(item: Scored): string {
  const { record, prediction, error } = item;
  if (record.fields === undefined) return JSON.stringify({ line: record.number, error });
  if (error !== undefined) return JSON.stringify({ ...record.fields, error });
  return JSON.stringify({ ...record.fields, ...prediction });
}

/** The columns a CSV output adds; an input column of the same name is replaced by the prediction's. */
function addedColumns(model: HeadShape): string[] {
  const verdict = model.problemType === 'regression' ? ['value']
    : model.problemType === 'multi_label_classification' ? ['label', 'score', 'labels'] : ['label', 'score'];
  return [...verdict, ...model.labels, 'truncated', 'error_code', 'error_message'];
}

export function csvColumns(inputColumns: readonly string[], model: HeadShape): string[] {
  const added = addedColumns(model);
  return [...inputColumns.filter((column) => !added.includes(column)), ...added];
}

function csvRow(item: Scored, columns: readonly string[], added: readonly string[]): Record<string, unknown> {
  const { record, prediction, error } = item;
  const row: Record<string, unknown> = {};
  for (const column of columns) {
    if (added.includes(column)) continue;
    const value = record.fields?.[column];
    row[column] = value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
  }
  if (prediction !== undefined) {
    const { label, score, labels, value } = prediction;
    Object.assign(row, { label, score, labels: labels?.join('|'), value, truncated: prediction.truncated }, prediction.scores);
  }
  if (error !== undefined) Object.assign(row, { error_code: error.code, error_message: error.message });
  return row;
}

export function openOutput(options: OutputOptions): OutputWriter {
  const stream: Writable = options.path === undefined || options.path === '-'
    ? process.stdout
    : createWriteStream(options.path, { flags: options.append ? 'a' : 'w' });
  const added = addedColumns(options.model);
  let columns: string[] | undefined;
  let headerDone = options.append;
  const format = (run: Scored[]): string => {
    if (options.format === 'jsonl') return run.map((item) => `${jsonlLine(item)}\n`).join('');
    columns ??= csvColumns(options.columns() ?? Object.keys(run[0]?.record.fields ?? { text: '' }), options.model);
    const text = stringify(run.map((item) => csvRow(item, columns!, added)), { header: !headerDone, columns, cast: { boolean: (value) => String(value) } });
    headerDone = true;
    return text;
  };
  let failed: Error | undefined;
  stream.on('error', (error) => { failed = error; });
  return {
    async write(run) {
      if (failed) throw failed;
      if (run.length === 0) return;
      if (!stream.write(format(run))) await once(stream, 'drain');
    },
    async close() {
      if (stream === process.stdout) {
        await new Promise<void>((resolve) => stream.write('', () => resolve()));
        return;
      }
      stream.end();
      await once(stream, 'finish');
      if (failed) throw failed;
    },
  };
}
