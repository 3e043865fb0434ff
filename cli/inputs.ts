// The command line's input formats, read as a stream of records (never the whole file): JSONL (one JSON
// object per line, the text in --column, default "text"), CSV (csv-parse; header row; the text in --column)
// or plain text (one tweet per line). Every record becomes the one NDJSON line that POST /api/predict/stream
// reads, `{"text": ...}`, so that the in-process mode (which checks it with the route's own line reader)
// and the remote mode (which sends it) answer every record with the same prediction or the same error.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { readLines } from '../bulk/ndjson-lines.js';

export type InputFormat = 'jsonl' | 'csv' | 'text';

export interface InputRecord {
  /** 1-based record number (a CSV record may span several lines). */
  number: number;
  /** What the output repeats: the JSON object, the CSV row by column, { text } for plain text; undefined for a JSONL line that is not an object. */
  fields: Record<string, unknown> | undefined;
  /** The line this record sends to the predictor (or to the server): NDJSON, without its newline. */
  wire: string;
}

export interface InputSource {
  records: AsyncIterable<InputRecord>;
  /** Column names known before the first record (CSV header), for a CSV output. */
  columns(): Promise<string[] | undefined>;
  /** Bytes read from the file so far, and its size (undefined for stdin): the progress bar's measure. */
  bytesRead(): number;
  totalBytes: number | undefined;
  close(): void;
}

export function detectFormat(path: string | undefined, explicit: string | undefined): InputFormat {
  if (explicit !== undefined) {
    if (explicit === 'jsonl' || explicit === 'csv' || explicit === 'text') return explicit;
    if (explicit === 'ndjson' || explicit === 'json') return 'jsonl';
    if (explicit === 'txt') return 'text';
    throw new UsageError(`--format must be jsonl, csv or text, got '${explicit}'`);
  }
  if (path === undefined || path === '-') return 'text';
  const lower = path.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  return 'text';
}

export class UsageError extends Error {}

/** The value of flag `--name` as a positive integer; undefined when the flag is absent. */
export function positiveIntegerFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got '${text}'`);
  return value;
}

/** Opens FILE (or stdin for '-' / undefined); counts the bytes the parsers take, for the progress bar. */
export function openInput(path: string | undefined, format: InputFormat, column: string, size: number | undefined, maxLineBytes: number): InputSource {
  const stream: Readable = path === undefined || path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 256 * 1024 });
  let read = 0;
  stream.on('data', (chunk: Buffer) => { read += chunk.length; });
  let columnsKnown: (value: string[] | undefined) => void = () => undefined;
  const columns = new Promise<string[] | undefined>((resolve) => { columnsKnown = resolve; });
  let records: AsyncIterable<InputRecord>;
  if (format === 'csv') {
    records = csvRecords(stream, column, columnsKnown);
  } else {
    columnsKnown(format === 'text' ? ['text'] : undefined);
    records = format === 'jsonl' ? jsonlRecords(stream, column, maxLineBytes) : textRecords(stream, maxLineBytes);
  }
  return {
    records,
    columns: () => columns,
    bytesRead: () => read,
    totalBytes: size,
    // stdin too: after Ctrl-C, a reader waiting for a line that may never come must end.
    close: () => { stream.destroy(); },
  };
}

async function* jsonlRecords(stream: Readable, column: string, maxLineBytes: number): AsyncGenerator<InputRecord> {
  for await (const raw of readLines(stream, maxLineBytes)) {
    let value: unknown;
    try {
      value = raw.text === undefined ? undefined : JSON.parse(raw.text);
    } catch {
      value = undefined;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const fields = value as Record<string, unknown>;
      yield { number: raw.number, fields, wire: JSON.stringify({ text: fields[column] }) };
    } else {
      // Not an object (not JSON, empty, too long, an array…): sent as it is, so that the route's line reader
      // gives it its error, in both modes alike.
      yield { number: raw.number, fields: undefined, wire: raw.text ?? oversized(maxLineBytes) };
    }
  }
}

/**
 * A line longer than BODY_LIMIT is not kept in memory; what stands for it is a line just over the limit, which
 * the route's line reader refuses with the same code in both modes (rare: such a line is no tweet).
 */
function oversized(maxLineBytes: number): string {
  return 'x'.repeat(maxLineBytes + 1);
}

async function* textRecords(stream: Readable, maxLineBytes: number): AsyncGenerator<InputRecord> {
  for await (const raw of readLines(stream, maxLineBytes)) {
    const text = raw.text ?? '';
    yield { number: raw.number, fields: { text }, wire: raw.tooLong ? oversized(maxLineBytes) : JSON.stringify({ text }) };
  }
}

async function* csvRecords(stream: Readable, column: string, columnsKnown: (columns: string[] | undefined) => void): AsyncGenerator<InputRecord> {
  let header: string[] | undefined;
  const parser = stream.pipe(parseCsv({
    bom: true,
    // The header row names the columns; rows with a different number of fields are kept (missing → '').
    columns: (names: string[]) => {
      header = names;
      if (!names.includes(column)) throw new UsageError(`the CSV has no column '${column}' (columns: ${names.join(', ')}); choose one with --column`);
      columnsKnown(names);
      return names;
    },
    relax_column_count: true,
    skip_empty_lines: true,
  }));
  stream.on('error', (error) => parser.destroy(error));
  let number = 0;
  try {
    for await (const row of parser as AsyncIterable<Record<string, string>>) {
      number++;
      yield { number, fields: row, wire: JSON.stringify({ text: row[column] ?? '' }) };
    }
  } finally {
    if (header === undefined) columnsKnown(undefined);
  }
}
