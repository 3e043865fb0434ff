// How many tokens a text will have, guessed on the main thread without tokenizing it. Texts are tokenized
// in the worker that runs their batch (one thread hand-off per batch, not per stage), so the batcher groups
// them by this guess; the worker then sorts each batch by the exact counts (inference/run-plan.ts). The
// guess is the model's special tokens plus the text's length times the tokens per character that the
// batches answered so far measured, so it follows the model's tokenizer and the traffic's language.

/** Tokens per UTF-16 unit before any batch has answered: English tweets run about 3.5 units a token. */
const INITIAL_TOKENS_PER_CHAR = 0.28;
/** Weight of each batch's measurement in the running estimate. */
const LEARNING_RATE = 0.1;

export class TokenEstimate {
  readonly maxTokens: number;
  readonly specialTokens: number;
  #tokensPerChar = INITIAL_TOKENS_PER_CHAR;

  constructor(maxTokens: number, specialTokens: number) {
    this.maxTokens = maxTokens;
    this.specialTokens = specialTokens;
  }

  get tokensPerChar(): number {
    return this.#tokensPerChar;
  }

  /** The guessed token count of a text, special tokens included, between 1 and the model's limit. */
  tokens(text: string): number {
    const guess = this.specialTokens + Math.round(text.length * this.#tokensPerChar);
    return Math.max(1, Math.min(this.maxTokens, guess));
  }

  /** Learns from texts whose real token counts (special tokens included) are now known, none of them cut. */
  learn(chars: number, texts: number, tokens: number): void {
    const textTokens = tokens - texts * this.specialTokens;
    if (!(chars > 0) || !(textTokens > 0)) return;
    this.#tokensPerChar += LEARNING_RATE * (textTokens / chars - this.#tokensPerChar);
  }
}
