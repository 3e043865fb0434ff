// The checks every text passes before it is queued, whatever way it came in: the one place for them. A JSON
// schema may state the same limits (so that OpenAPI documents them), but the service's answer to a text that
// breaks one is decided here.
import { InvalidTextError, TextTooLongError, TooManyTextsError } from './errors.js';

export interface TextLimits {
  /** Longest text, in characters (Unicode code points): MAX_TEXT_CHARS. */
  maxTextChars: number;
  /** Most texts in one call: MAX_CLIENT_BATCH. */
  maxClientBatch: number;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Code points in a text (what a person counts as characters, unlike UTF-16 `length`). */
export function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Throws the error a client gets for the first text that may not be queued: TOO_MANY_TEXTS for too many,
 * TEXT_TOO_LONG for a text over MAX_TEXT_CHARS, INVALID_TEXT for one that is empty or only whitespace, or
 * holds a NUL or a lone UTF-16 surrogate. `where(i)` names text i in messages ("text", "texts.3", "line 7").
 * `listName` names the whole list in the TOO_MANY_TEXTS message.
 */
export function checkTexts(texts: readonly string[], limits: TextLimits, where: (i: number) => string, listName = 'texts'): void {
  if (texts.length > limits.maxClientBatch) throw new TooManyTextsError(listName, texts.length, limits.maxClientBatch);
  for (let i = 0; i < texts.length; i++) checkText(texts[i]!, limits, where(i));
}

export function checkText(text: string, limits: Pick<TextLimits, 'maxTextChars'>, where: string): void {
  // UTF-16 length is at least the code point count: only texts that may be too long are counted.
  if (text.length > limits.maxTextChars) {
    const length = codePoints(text);
    if (length > limits.maxTextChars) throw new TextTooLongError(where, length, limits.maxTextChars);
  }
  if (text.length === 0) throw new InvalidTextError(`${where} is empty`);
  if (!/\S/.test(text)) throw new InvalidTextError(`${where} is only whitespace`);
  if (text.includes('\0')) throw new InvalidTextError(`${where} holds a NUL character`);
  if (LONE_SURROGATE.test(text)) throw new InvalidTextError(`${where} holds a lone UTF-16 surrogate (invalid Unicode)`);
}
