// An error of one text of a stream → what its output line says: the code of the error table with its
// message, or INTERNAL_ERROR with no detail for anything unexpected (as the HTTP error handler answers).
import { ERROR_TABLE } from '../server/errors.js';
import type { LineFailure } from './stream-input.js';

export function failureOf(error: unknown): LineFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code in ERROR_TABLE || code.startsWith('FST_'))) {
    return { code, message: (error as Error).message };
  }
  return { code: 'INTERNAL_ERROR', message: 'Internal Server Error' };
}
