// The Hugging Face JavaScript client, unchanged: @huggingface/inference's textClassification with
// endpointUrl = this service's POST /hf/text-classification, against the shipped model and real tweets.
import { join } from 'node:path';
import { InferenceClientProviderApiError, textClassification } from '@huggingface/inference';
import t from 'tap';
import { validationTexts } from '../helpers/data.js';
import { SCORE_TOLERANCE } from '../helpers/predictions.js';
import { postJson, startTestService } from '../helpers/service.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TWEETS = validationTexts().slice(0, 6);

const server = await startTestService({ MODEL_PATH: join(ROOT, 'models', 'twitter-sentiment'), API_KEYS: 'hf-key' });
t.teardown(() => server.close());
const endpointUrl = `${server.url}/hf/text-classification`;
const accessToken = 'hf-key';
const key = { authorization: 'Bearer hf-key' };

t.test('textClassification gets every label with /api/predict\'s probability, highest first', async (t) => {
  for (const inputs of TWEETS) {
    const reference = await postJson(`${server.url}/api/predict`, { text: inputs }, key);
    const output = await textClassification({ endpointUrl, accessToken, inputs });
    t.same(output.map((o) => o.label).sort(), ['negative', 'neutral', 'positive'], 'every label');
    t.equal(output[0]!.label, reference.body.label, `top label ${reference.body.label}: ${inputs.slice(0, 40)}`);
    t.ok(output.every((o, i) => i === 0 || output[i - 1]!.score >= o.score), 'highest first');
    t.ok(output.every((o) => Math.abs(o.score - reference.body.scores[o.label]) <= SCORE_TOLERANCE), 'the same probabilities');
  }
});

t.test('parameters.top_k and function_to_apply are honoured', async (t) => {
  const inputs = TWEETS[0]!;
  const all = await textClassification({ endpointUrl, accessToken, inputs });
  const top1 = await textClassification({ endpointUrl, accessToken, inputs, parameters: { top_k: 1 } });
  t.same(top1, all.slice(0, 1), 'top_k: 1');
  const top2 = await textClassification({ endpointUrl, accessToken, inputs, parameters: { top_k: 2 } });
  t.same(top2, all.slice(0, 2), 'top_k: 2');
  const none = await textClassification({ endpointUrl, accessToken, inputs, parameters: { function_to_apply: 'none' } });
  const sigmoid = await textClassification({ endpointUrl, accessToken, inputs, parameters: { function_to_apply: 'sigmoid' } });
  for (const s of sigmoid) {
    const logit = none.find((o) => o.label === s.label)!.score;
    t.ok(Math.abs(s.score - 1 / (1 + Math.exp(-logit))) < 1e-6, `sigmoid(${s.label}) = 1 / (1 + e^-logit)`);
  }
  t.same(none.map((o) => o.label), all.map((o) => o.label), 'logits rank the labels as the probabilities do');
});

t.test('a list of inputs answers one list per input (the Inference API\'s batch form)', async (t) => {
  const res = await postJson(endpointUrl, { inputs: TWEETS.slice(0, 3) }, key);
  t.equal(res.status, 200);
  t.equal(res.body.length, 3);
  for (const [i, list] of (res.body as { label: string; score: number }[][]).entries()) {
    t.same(list, await textClassification({ endpointUrl, accessToken, inputs: TWEETS[i]! }), `inputs[${i}]`);
  }
});

t.test('errors reach the client as the Inference API\'s {error}: no key, bad parameters, empty text', async (t) => {
  const failures = [
    [{ endpointUrl, inputs: 'hello' }, 401],
    [{ endpointUrl, accessToken, inputs: 'hello', parameters: { top_k: 0 } }, 400],
    [{ endpointUrl, accessToken, inputs: 'hello', parameters: { function_to_apply: 'tanh' } }, 400],
    [{ endpointUrl, accessToken, inputs: '   ' }, 400],
  ] as const;
  for (const [args, status] of failures) {
    const error = await textClassification(args as Parameters<typeof textClassification>[0]).then(() => undefined, (e: unknown) => e);
    t.ok(error instanceof InferenceClientProviderApiError, `${JSON.stringify({ ...args, endpointUrl: undefined })}: the client raises its API error`);
    const apiError = error as InferenceClientProviderApiError;
    t.equal(apiError.httpResponse.status, status);
    t.match(apiError.message, /^Failed to perform inference: .+/, 'with our message');
    t.notMatch(apiError.message, /an HTTP error occurred/, 'the client found the error text in the body');
  }
});
