// --resume: where a killed run stopped. The output holds one record per input record, in input order, so
// the number of complete records in it is the number of input records to skip. A partial last record (the
// run was killed in the middle of a write) is cut off, so that appending continues a valid file.
import { createReadStream, existsSync, openSync, readSync, closeSync, statSync, truncateSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse';
import type { OutputFormat } from './outputs.js';

export interface ResumePoint {
  /** Complete output records (the CSV header not counted): input records to skip. */
  records: number;
  /** Where the complete records end; the file is cut there. */
  bytes: number;
  /** The CSV header of the existing output, when there is one. */
  header: string[] | undefined;
}

export async function findResumePoint(path: string, format: OutputFormat): Promise<ResumePoint> {
  if (!existsSync(path) || statSync(path).size === 0) return { records: 0, bytes: 0, header: undefined };
  return format === 'jsonl' ? jsonlPoint(path) : csvPoint(path);
}

/** Cuts the file after its last complete record. */
export function cutAt(path: string, point: ResumePoint): void {
  if (existsSync(path) && statSync(path).size !== point.bytes) truncateSync(path, point.bytes);
}

async function jsonlPoint(path: string): Promise<ResumePoint> {
  let records = 0;
  let offset = 0;
  let end = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) {
      records++;
      end = offset + i + 1;
    }
    offset += chunk.length;
  }
  return { records, bytes: end, header: undefined };
}

async function csvPoint(path: string): Promise<ResumePoint> {
  let header: string[] | undefined;
  let records = 0;
  let end = 0;
  let lastEnd = 0;
  const parser = createReadStream(path).pipe(parseCsv({ info: true, relax_column_count: true, bom: true }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) {
      if (header === undefined) header = record;
      else records++;
      lastEnd = end;
      end = info.bytes;
    }
  } catch (error) {
    // A last record cut inside a quoted field: every record before it is complete.
    if ((error as { code?: string }).code !== 'CSV_QUOTE_NOT_CLOSED') throw error;
    return { records, bytes: end, header };
  }
  // Only the last record can be partial: complete records end with their newline.
  if (end > 0 && lastByte(path, end) !== 0x0a) {
    if (records > 0) records--;
    else header = undefined;
    end = lastEnd;
  }
  return { records, bytes: end, header };
}

function lastByte(path: string, end: number): number {
  const fd = openSync(path, 'r');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, end - 1);
    return byte[0]!;
  } finally {
    closeSync(fd);
  }
}
