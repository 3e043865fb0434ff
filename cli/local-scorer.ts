// In-process scoring (the default): the core without HTTP — the inference pool and the tokenizers of this
// process — through the same windowed, ordered scorer and the same line checks as POST /api/predict/stream,
// so that its output is the remote mode's, record for record.
import type { Predictor } from '../core/predictor.js';
import { restPrediction } from '../core/rest-prediction.js';
import { scoreInOrder, type ScoreInput } from '../bulk/ordered-scorer.js';
import { parseStreamLine } from '../bulk/stream-input.js';
import type { InputRecord } from './inputs.js';
import type { Scored } from './outputs.js';

/** No interactive callers share this process's queue: a wider window than the route's keeps every worker fed. */
const LOCAL_WINDOW = 1024;
const LOCAL_CHUNK = 64;

export async function* scoreLocally(predictor: Predictor, records: AsyncIterable<InputRecord>, options: { bodyLimit: number; signal: { readonly aborted: boolean } }): AsyncGenerator<Scored[]> {
  const window = Math.max(1, Math.min(LOCAL_WINDOW, Math.floor(predictor.limits.maxQueue / 2)));
  const chunk = Math.min(LOCAL_CHUNK, window);
  for await (const run of scoreInOrder(predictor, asInputs(records, options.bodyLimit), { window, chunk, signal: options.signal })) {
    yield run.map((out) => (out.error !== undefined ? { record: out.meta, error: out.error } : { record: out.meta, prediction: restPrediction(out.model, out.result) }));
  }
}

async function* asInputs(records: AsyncIterable<InputRecord>, bodyLimit: number): AsyncGenerator<ScoreInput<InputRecord>> {
  for await (const record of records) {
    const bytes = Buffer.byteLength(record.wire);
    const input = parseStreamLine({ number: record.number, text: record.wire, bytes, tooLong: bytes > bodyLimit }, bodyLimit);
    yield 'error' in input ? { meta: record, error: input.error } : { meta: record, text: input.text };
  }
}
