// The text normalization a model's card asks for, declared with the model (config.json `text_preprocessing`,
// read by inference/model-files.ts) and applied by the predictor to every text, whatever way it came in,
// before the cache is asked: a client need not know it, and two texts that it makes equal share one answer.

/**
 * The Twitter RoBERTa models' rule (cardiffnlp's model cards), exactly as their Python `preprocess`:
 *   for t in text.split(" "): '@user' if t.startswith('@') and len(t) > 1, 'http' if t.startswith('http')
 * Words are cut at single spaces only, as str.split(" ") cuts them (a newline or a tab is not a cut), and
 * joined back with single spaces, so every other character stays where it was.
 */
export function twitterUserHttp(text: string): string {
  // Most texts hold neither: no array, no copy.
  if (!text.includes('@') && !text.includes('http')) return text;
  const words = text.split(' ');
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    // Python's len() counts code points and JavaScript's length UTF-16 units; past the one-character '@'
    // both are above 1, so the test is the same.
    if (word.length > 1 && word.startsWith('@')) words[i] = '@user';
    else if (word.startsWith('http')) words[i] = 'http';
  }
  return words.join(' ');
}

/** Every step a model may declare, by the name it declares it with. */
export const PREPROCESSING_STEPS: Readonly<Record<string, (text: string) => string>> = {
  twitter_user_http: twitterUserHttp,
};

export class UnknownPreprocessingError extends Error {
  override name = 'UnknownPreprocessingError';
}

/** The declared steps as one function, or undefined when there are none (the texts go as they are). */
export function preprocessorFor(steps: readonly string[], where: string): ((text: string) => string) | undefined {
  const functions = steps.map((step) => {
    const run = Object.hasOwn(PREPROCESSING_STEPS, step) ? PREPROCESSING_STEPS[step] : undefined;
    if (run === undefined) {
      throw new UnknownPreprocessingError(`${where}: text_preprocessing step '${step}' is unknown; known steps: ${Object.keys(PREPROCESSING_STEPS).join(', ')}`);
    }
    return run;
  });
  if (functions.length === 0) return undefined;
  if (functions.length === 1) return functions[0];
  return (text) => functions.reduce((out, run) => run(out), text);
}
