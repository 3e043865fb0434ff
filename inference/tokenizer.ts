// The one tokenizer the project uses, in serving (inference workers), in training (the Node step that
// writes the ids PyTorch learns from) and in the parity tests. It wraps @huggingface/tokenizers, which
// reproduces the Rust `tokenizers` library's ids for a Hugging Face `tokenizer.json`, and adds the one
// thing that library lacks: truncation to the model's maximum length that keeps the special tokens.
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenDetail, Truncation } from './protocol.js';

/**
 * What this wrapper uses of the library's Tokenizer, as the library's own declarations state it. Those
 * declarations import one another without file extensions, which NodeNext module resolution cannot follow,
 * so `Tokenizer` reaches this project as `any`: without this, no call below would be type-checked.
 */
interface LibraryTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  token_to_id(token: string): number | undefined;
  get_added_tokens_decoder(): Map<number, { special: boolean }>;
}
const LibraryTokenizer = Tokenizer as new (tokenizerJson: object, tokenizerConfig: object) => LibraryTokenizer;

export interface EncodedText {
  /** Token ids, special tokens included, at most `maxTokens` long. */
  ids: number[];
  /** True when the text had more tokens than the model accepts and its tail was cut. */
  truncated: boolean;
}

type JsonObject = Record<string, unknown>;

export class TextTokenizer {
  readonly maxTokens: number;
  readonly padId: number;
  readonly #tokenizer: LibraryTokenizer;
  /** How many special tokens the post-processor puts before and after a single text. */
  readonly #prefixLength: number;
  readonly #suffixLength: number;
  readonly #specialIds: Set<number>;

  constructor(tokenizerJson: JsonObject, tokenizerConfig: JsonObject, maxTokens: number) {
    this.#tokenizer = new LibraryTokenizer(tokenizerJson, tokenizerConfig);
    this.padId = resolvePadId(this.#tokenizer, tokenizerJson, tokenizerConfig);
    // Learn the special-token template once from a probe, e.g. RoBERTa `<s> … </s>` → 1 and 1,
    // BERT `[CLS] … [SEP]` → 1 and 1, a tokenizer without post-processor → 0 and 0.
    const probe = 'probe';
    const plain = this.#tokenizer.encode(probe, { add_special_tokens: false }).ids;
    const full = this.#tokenizer.encode(probe).ids;
    const at = indexOfRun(full, plain);
    this.#prefixLength = at < 0 ? 0 : at;
    this.#suffixLength = at < 0 ? 0 : full.length - at - plain.length;
    if (!Number.isInteger(maxTokens) || maxTokens <= this.#prefixLength + this.#suffixLength) {
      throw new RangeError(`maxTokens must be an integer above the ${this.#prefixLength + this.#suffixLength} special tokens, got ${maxTokens}`);
    }
    this.maxTokens = maxTokens;
    this.#specialIds = new Set([...this.#tokenizer.get_added_tokens_decoder()].filter(([, token]) => token.special).map(([id]) => id));
  }

  /** Special tokens the post-processor puts around a single text. */
  get specialTokens(): number {
    return this.#prefixLength + this.#suffixLength;
  }

  /**
   * Token ids of a text, cut to maxTokens: at its end ('right', the default), at its start ('left'), or not
   * at all ('none': the ids come back whole and `truncated` says the text is too long for the model).
   */
  encode(text: string, truncation: Truncation = 'right'): EncodedText {
    if (truncation !== 'right') {
      const ids = this.#tokenizer.encode(text).ids;
      if (ids.length <= this.maxTokens) return { ids, truncated: false };
      return truncation === 'none' ? { ids, truncated: true } : this.#truncateLeft(ids);
    }
    // A text far longer than the model reads (up to MAX_TEXT_CHARS) would cost its full tokenizing time only
    // for its tail to be cut. Tokenize a prefix that ends just before a whitespace instead: every tokenizer
    // here splits words at whitespace, so the prefix's tokens are the whole text's first tokens; when they
    // already overflow maxTokens, truncating them gives exactly what truncating the whole text gives.
    const prefixChars = this.maxTokens * PREFIX_CHARS_PER_TOKEN;
    if (text.length > prefixChars) {
      const cut = lastWhitespaceBefore(text, prefixChars);
      if (cut > 0) {
        const prefixIds = this.#tokenizer.encode(text.slice(0, cut)).ids;
        if (prefixIds.length > this.maxTokens) return this.#truncate(prefixIds);
      }
    }
    const ids = this.#tokenizer.encode(text).ids;
    if (ids.length <= this.maxTokens) return { ids, truncated: false };
    return this.#truncate(ids);
  }

  /** Each token of a text with its string, and whether it is one of the tokenizer's special tokens. */
  tokenize(text: string, addSpecialTokens: boolean): TokenDetail[] {
    const { ids, tokens } = this.#tokenizer.encode(text, { add_special_tokens: addSpecialTokens });
    return ids.map((id, i) => ({ id, text: tokens[i] ?? '', special: this.#specialIds.has(id) }));
  }

  decode(ids: number[], skipSpecialTokens: boolean): string {
    return this.#tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  /** Keeps the text's last tokens and both ends' special tokens. */
  #truncateLeft(ids: number[]): EncodedText {
    const keep = this.maxTokens - this.#prefixLength - this.#suffixLength;
    const kept = ids.slice(0, this.#prefixLength);
    for (let i = ids.length - this.#suffixLength - keep; i < ids.length; i++) kept.push(ids[i]!);
    return { ids: kept, truncated: true };
  }

  #truncate(ids: number[]): EncodedText {
    // Cut the text's tokens, never the closing special tokens: the same result as the Rust library's
    // `truncation(max_length, strategy="longest_first", direction="right")` for a single sequence.
    const keep = this.maxTokens - this.#suffixLength;
    const truncatedIds = ids.slice(0, keep);
    for (let i = ids.length - this.#suffixLength; i < ids.length; i++) truncatedIds.push(ids[i]!);
    return { ids: truncatedIds, truncated: true };
  }
}

/** Tweets average well under 6 characters per token; a prefix this long nearly always overflows. */
const PREFIX_CHARS_PER_TOKEN = 6;

/** Index of the last whitespace character at or before `limit` (the prefix ends just before it), or -1. */
function lastWhitespaceBefore(text: string, limit: number): number {
  for (let i = limit; i > 0; i--) {
    if (/\s/.test(text[i]!)) return i;
  }
  return -1;
}

function indexOfRun(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function resolvePadId(tokenizer: LibraryTokenizer, tokenizerJson: JsonObject, tokenizerConfig: JsonObject): number {
  const padding = tokenizerJson.padding as { pad_id?: unknown } | null | undefined;
  if (padding && typeof padding.pad_id === 'number') return padding.pad_id;
  const padToken = tokenizerConfig.pad_token;
  const padContent = typeof padToken === 'string' ? padToken
    : (padToken && typeof padToken === 'object' && typeof (padToken as { content?: unknown }).content === 'string')
      ? (padToken as { content: string }).content : undefined;
  if (padContent !== undefined) {
    const id = tokenizer.token_to_id(padContent);
    if (id !== undefined) return id;
  }
  for (const candidate of ['<pad>', '[PAD]']) {
    const id = tokenizer.token_to_id(candidate);
    if (id !== undefined) return id;
  }
  // Padding positions are masked out by attention_mask, so any id is correct; 0 is the usual one.
  return 0;
}
