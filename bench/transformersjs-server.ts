// The transformers.js peer: what a TypeScript team would write instead of this service. Fastify with the
// service's JSON schemas (server/schemas.ts, the same ajv options) and a route handler that makes ONE
// `pipeline('text-classification')` call per request, as @huggingface/transformers documents it
// (`await classifier(text, { top_k: null })` for every label's score). The model is read from local files
// only (bench/transformersjs-layout.ts lays the service's model directory out as transformers.js expects),
// the ONNX file and dtype the service serves for the same MODEL_DTYPE, on onnxruntime-node; no batching
// across requests, no worker threads, no cache.
//
//   node dist/bench/transformersjs-server.js   (MODEL_PATH, MODEL_DTYPE, HOST, PORT, THREADS = ONNX Runtime
//                                                intra-op threads, MAX_TEXT_CHARS, MAX_CLIENT_BATCH)
import Fastify from 'fastify';
import { env, pipeline } from '@huggingface/transformers';
import { FASTIFY_OPTIONS } from '../server/app.js';
import { errorSchema, healthRouteSchema, predictBatchRouteSchema, predictRouteSchema, predictionSchema } from '../server/schemas.js';
import type { ModelDtype } from '../inference/onnx-files.js';
import { DEFAULT_MODEL } from './paths.js';
import { layOutForTransformersJs } from './transformersjs-layout.js';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 5000);
const threads = Number(process.env.THREADS ?? 1);
const maxTextChars = Number(process.env.MAX_TEXT_CHARS ?? 5000);
const maxClientBatch = Number(process.env.MAX_CLIENT_BATCH ?? 64);

const model = layOutForTransformersJs(process.env.MODEL_PATH ?? DEFAULT_MODEL, { dtype: (process.env.MODEL_DTYPE || 'auto') as ModelDtype });
env.localModelPath = model.root;
env.allowRemoteModels = false;
// The thread count is the one setting a user must add to share the cores with other replicas:
// onnxruntime-node otherwise starts one intra-op thread per core in every process.
const classifier = await pipeline('text-classification', model.id, {
  dtype: model.dtype, device: 'cpu', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
});

interface Scored { label: string; score: number }

/** transformers.js's answer (every label, highest first) in the service's body: scores in the model's label order. */
function prediction(scored: Scored[]) {
  const byLabel = new Map(scored.map((s) => [s.label, s.score]));
  const scores: Record<string, number> = {};
  for (const label of model.labels) scores[label] = byLabel.get(label)!;
  // transformers.js does not say whether it cut a text: reported false (validation tweets fit the model).
  return { label: scored[0]!.label, score: scored[0]!.score, scores, truncated: false };
}

const app = Fastify({ ...FASTIFY_OPTIONS, logger: false });
app.removeContentTypeParser('text/plain');
app.addSchema(errorSchema);
app.addSchema(predictionSchema);

app.get('/api/health', { schema: healthRouteSchema }, async () => ({ status: 'healthy', message: 'API is running' }));
app.post<{ Body: { text: string } }>('/api/predict', { schema: predictRouteSchema(maxTextChars) }, async (request) => {
  const scored = await classifier(request.body.text, { top_k: null }) as Scored[];
  return prediction(scored);
});
app.post<{ Body: { texts: string[] } }>('/api/predict/batch', { schema: predictBatchRouteSchema(maxTextChars, maxClientBatch) }, async (request) => {
  const scored = await classifier(request.body.texts, { top_k: null }) as Scored[][];
  return { predictions: scored.map(prediction) };
});

await app.listen({ host, port });
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
