// Lines of a byte stream (NDJSON, JSONL, plain text), one at a time, in bounded memory: the reader holds at
// most one line (up to maxLineBytes) and whatever chunk the source gave it, never the whole body. A line
// longer than maxLineBytes is not kept: its bytes are counted and dropped up to its newline, and the line
// comes out as `tooLong`, so that the caller answers it with an error line and goes on.
//
// Pulling from the source only when the consumer asks for the next line is what carries backpressure back
// to the client: an HTTP request stream is paused while nobody iterates it.

export interface RawLine {
  /** 1-based line number in the stream. */
  number: number;
  /** The line's text (UTF-8 decoded, without its "\n" or "\r\n"); undefined when tooLong. */
  text: string | undefined;
  /** Bytes of the line, terminator excluded. */
  bytes: number;
  tooLong: boolean;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export async function* readLines(source: AsyncIterable<Buffer | string | Uint8Array>, maxLineBytes: number): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let lineBytes = 0;
  let tooLong = false;
  let number = 0;

  const finish = (): RawLine => {
    number++;
    let text: string | undefined;
    let bytes = lineBytes;
    if (!tooLong) {
      let line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes);
      if (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN) line = line.subarray(0, line.length - 1);
      bytes = line.length;
      if (bytes > maxLineBytes) tooLong = true;
      else text = line.toString('utf8');
    }
    const out: RawLine = { number, text, bytes, tooLong };
    parts = [];
    partBytes = 0;
    lineBytes = 0;
    tooLong = false;
    return out;
  };

  const keep = (piece: Buffer) => {
    lineBytes += piece.length;
    if (tooLong) return;
    // +1: a "\r" before the newline does not count against the limit.
    if (lineBytes > maxLineBytes + 1) {
      tooLong = true;
      parts = [];
      partBytes = 0;
      return;
    }
    // A copy, not a view: a view would keep the source's whole chunk alive for as long as the line lives.
    if (piece.length > 0) {
      parts.push(Buffer.from(piece));
      partBytes += piece.length;
    }
  };

  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(NEWLINE, start);
      if (end === -1) {
        keep(buffer.subarray(start));
        break;
      }
      keep(buffer.subarray(start, end));
      yield finish();
      start = end + 1;
    }
  }
  // A last line without its newline still counts; a body that ends with "\n" has no extra empty line.
  if (lineBytes > 0) yield finish();
}
