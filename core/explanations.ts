// "Why is this negative?": each word of a text weighed by leaving it out. A text of n words becomes n + 1
// texts — itself and itself without each word — scored in the same call as any other texts (one queue, one
// batch where they fit), so an explanation costs one batched call and works for any model, whatever its
// architecture: no gradients, no attention maps, only the model's own answers.
//
// A word is a run of non-space characters, as a person counts words ("great!" is one). Leaving one out
// removes it with the spaces after it (the spaces before it, for the last word), so the rest reads as
// written. Its weight is the predicted label's score with the word minus without it: above 0 the word
// pushes towards the label, below 0 away from it. For a regression it is the value with minus without.
import { CoreError } from './errors.js';
import type { TextResult, WordWeight } from './results.js';

export interface WordSpan {
  start: number;
  end: number;
}

export function wordSpans(text: string): WordSpan[] {
  const spans: WordSpan[] = [];
  for (const match of text.matchAll(/\S+/g)) spans.push({ start: match.index, end: match.index + match[0].length });
  return spans;
}

/** The text without word `i`, and without the spaces that separated it from the next word (or the previous one). */
export function withoutWord(text: string, spans: readonly WordSpan[], i: number): string {
  const word = spans[i]!;
  const next = spans[i + 1];
  if (next !== undefined) return text.slice(0, word.start) + text.slice(next.start);
  const previous = spans[i - 1];
  return text.slice(0, previous === undefined ? word.start : previous.end) + text.slice(word.end);
}

/** A text of more words than EXPLAIN_MAX_WORDS, asked to be explained. */
export class TooManyWordsError extends CoreError {
  constructor(where: string, words: number, limit: number) {
    super('TOO_MANY_WORDS', `${where} has ${words} words; explain weighs at most ${limit} (EXPLAIN_MAX_WORDS): send a shorter text, or leave explain out`);
  }
}

/**
 * The model inputs that explain a call's texts: the texts first, then each one's variants without one of
 * its words, text by text; and how their answers become explanations.
 */
export class ExplainPlan {
  readonly texts: readonly string[];
  /** Each text's words. */
  readonly spans: WordSpan[][] = [];
  /** The variants, text by text, word by word. */
  readonly variants: string[] = [];
  /** Where text i's variants start in `variants`. */
  readonly #firsts: number[] = [];
  /** The text each variant belongs to. */
  readonly #origin: number[] = [];

  /** Throws TOO_MANY_WORDS for the first text of more than `maxWords` words, named by `where`. */
  constructor(texts: readonly string[], maxWords: number, where: (i: number) => string) {
    this.texts = texts;
    texts.forEach((text, i) => {
      const words = wordSpans(text);
      if (words.length > maxWords) throw new TooManyWordsError(where(i), words.length, maxWords);
      this.spans.push(words);
      this.#firsts.push(this.variants.length);
      for (let w = 0; w < words.length; w++) {
        this.variants.push(withoutWord(text, words, w));
        this.#origin.push(i);
      }
    });
  }

  /** Texts and variants: what the call sends to the model. */
  get inputs(): number {
    return this.texts.length + this.variants.length;
  }

  /** Names input i in error messages as its text is named (a variant fails as its text). */
  nameOf(where: (i: number) => string): (i: number) => string {
    const n = this.texts.length;
    return (i) => where(i < n ? i : this.#origin[i - n]!);
  }

  /** Each text's explanation, from the answers of every input, in the plan's order. */
  explanations(results: readonly TextResult[], regression: boolean): WordWeight[][] {
    const n = this.texts.length;
    return this.texts.map((text, i) => {
      const first = n + this.#firsts[i]!;
      return explanationOf(text, this.spans[i]!, results[i]!, results.slice(first, first + this.spans[i]!.length), regression);
    });
  }
}

/** Text i's explanation, from its own result and its variants' results (in the plan's order). */
function explanationOf(text: string, spans: readonly WordSpan[], result: TextResult, variantResults: readonly TextResult[], regression: boolean): WordWeight[] {
  // A regression's first output (its value), else the label the text was given.
  const output = regression ? 0 : result.labelIndex;
  const score = result.scores[output]!;
  return spans.map((span, w) => ({ text: text.slice(span.start, span.end), weight: score - variantResults[w]!.scores[output]! }));
}
