// The HTTP ceiling R_http: Fastify with the service's JSON schemas (server/schemas.ts, validated by ajv
// with the same options, responses serialized by fast-json-stringify) and the same response headers, whose
// routes return a fixed prediction at once. No tokenizing, no batching, no inference, no metrics plugin.
//
//   node dist/bench/noop-server.js            (HOST, PORT, LABELS=negative,neutral,positive, MAX_TEXT_CHARS, MAX_CLIENT_BATCH)
import Fastify from 'fastify';
import { FASTIFY_OPTIONS } from '../server/app.js';
import { errorSchema, healthRouteSchema, predictBatchRouteSchema, predictRouteSchema, predictionSchema } from '../server/schemas.js';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 5000);
const labels = (process.env.LABELS ?? 'negative,neutral,positive').split(',');
const maxTextChars = Number(process.env.MAX_TEXT_CHARS ?? 5000);
const maxClientBatch = Number(process.env.MAX_CLIENT_BATCH ?? 64);

const scores = Object.fromEntries(labels.map((label, i) => [label, i === labels.length - 1 ? 1 - 0.1 * (labels.length - 1) : 0.1]));
const prediction = { label: labels[labels.length - 1]!, score: scores[labels[labels.length - 1]!]!, scores, truncated: false };
const headers = { 'x-queue-time': '0.000', 'x-inference-time': '0.000', 'x-total-time': '0.000', 'x-model-version': 'noop00000000', 'x-cache': 'miss' };

const app = Fastify({ ...FASTIFY_OPTIONS, logger: false });
app.removeContentTypeParser('text/plain');
app.addSchema(errorSchema);
app.addSchema(predictionSchema);

app.get('/api/health', { schema: healthRouteSchema }, async () => ({ status: 'healthy', message: 'API is running' }));
app.get('/api/ready', async () => ({ status: 'ready', queueDepth: 0, maxQueue: 0 }));
app.post<{ Body: { text: string } }>('/api/predict', { schema: predictRouteSchema(maxTextChars) }, async (_request, reply) => {
  void reply.headers(headers);
  return prediction;
});
app.post<{ Body: { texts: string[] } }>('/api/predict/batch', { schema: predictBatchRouteSchema(maxTextChars, maxClientBatch) }, async (request, reply) => {
  void reply.headers(headers);
  return { predictions: request.body.texts.map(() => prediction) };
});

await app.listen({ host, port });
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
