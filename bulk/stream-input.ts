// One NDJSON line of POST /api/predict/stream → the text to score (with the caller's id), or the error that
// POST /api/predict would have answered for that line sent as its body: the same code, so that a client
// handles a bad line exactly as it handles a bad single request. Messages do not repeat the line number
// (the answer line carries it): the command line's resumed runs number their lines as the first run did.
// Only the line's shape — what the route schema says for /api/predict — is checked here: the text itself is
// checked by the predictor, as every text is.
import type { RawLine } from './ndjson-lines.js';

export type LineId = string | number;

export interface LineFailure {
  code: string;
  message: string;
}

export type StreamInput =
  | { line: number; id: LineId | undefined; text: string; explain: boolean }
  | { line: number; id: LineId | undefined; error: LineFailure };

const validation = (message: string): LineFailure => ({ code: 'FST_ERR_VALIDATION', message });

/** `maxLineBytes` is BODY_LIMIT: a line is one /api/predict body, and a body that large gets 413 there. */
export function parseStreamLine(raw: RawLine, maxLineBytes: number): StreamInput {
  const line = raw.number;
  const fail = (error: LineFailure, id?: LineId) => ({ line, id, error });
  if (raw.tooLong || raw.text === undefined) {
    return fail({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: `the line has ${raw.bytes} bytes; the limit is ${maxLineBytes} (BODY_LIMIT)` });
  }
  if (raw.text.trim() === '') return fail({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', message: 'the line is empty' });
  let value: unknown;
  try {
    value = JSON.parse(raw.text);
  } catch (error) {
    return fail({ code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: `the line is not valid JSON: ${(error as Error).message}` });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(validation('the line must be an object'));
  const fields = value as Record<string, unknown>;
  const id = typeof fields.id === 'string' || typeof fields.id === 'number' ? fields.id : undefined;
  if ('id' in fields && id === undefined) return fail(validation('id must be a string or a number'));
  const unknown = Object.keys(fields).find((key) => key !== 'id' && key !== 'text' && key !== 'explain');
  if (unknown !== undefined) return fail(validation(`the line must NOT have additional properties (${unknown})`), id);
  if (!('text' in fields)) return fail(validation("the line must have required property 'text'"), id);
  const text = fields.text;
  if (typeof text !== 'string') return fail(validation('text must be string'), id);
  // The route schema's minLength 1, which /api/predict answers with FST_ERR_VALIDATION (before the core's checks).
  if (text.length === 0) return fail(validation('text must NOT have fewer than 1 characters'), id);
  if ('explain' in fields && typeof fields.explain !== 'boolean') return fail(validation('explain must be boolean'), id);
  return { line, id, text, explain: fields.explain === true };
}
