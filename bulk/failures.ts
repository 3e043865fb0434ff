// An error of one text of a stream → what its output line says: the code of the core's error table with its
// message, or, as the HTTP error handler answers, the table's own words for a fault of the service (whose
// message may carry a library's words) and INTERNAL_ERROR with no detail for anything unexpected.
import { coreEntryFor } from '../core/errors.js';
import type { LineFailure } from './stream-input.js';

export function failureOf(error: unknown): LineFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const entry = coreEntryFor(code);
  if (entry !== undefined) return { code: code as string, message: entry.kind === 'internal' ? entry.description : (error as Error).message };
  if (typeof code === 'string' && code.startsWith('FST_')) return { code, message: (error as Error).message };
  return { code: 'INTERNAL_ERROR', message: 'Internal Server Error' };
}
