// Failures inside the inference workers reach clients as a code from the error table and the table's own
// words: never ONNX Runtime's message, a file path or a stack. The fault comes from a wrapper worker
// (test/fixtures/failing-worker.ts) that fails batches holding its marker texts.
import t from 'tap';
import { FAILURES } from '../fixtures/failure-markers.js';
import { FIXTURES, postJson, startTestService } from '../helpers/service.js';

t.test('INFERENCE_FAILED and MODEL_LOAD_FAILED are 500s with the table\'s words, and the service goes on', async (t) => {
  const server = await startTestService({ MODEL_PATH: `${FIXTURES}bert-tiny`, MAX_BATCH_SIZE: '1' }, undefined, {
    workerFile: new URL('../fixtures/failing-worker.ts', import.meta.url).pathname,
  });
  t.teardown(() => server.close());
  for (const [text, failure] of Object.entries(FAILURES)) {
    const res = await postJson(`${server.url}/api/predict`, { text });
    t.equal(res.status, 500, `${failure.code}: 500`);
    t.equal(res.body.code, failure.code, 'the code says what failed');
    t.notMatch(JSON.stringify(res.body), /ONNXRuntimeError|RUNTIME_EXCEPTION|secret|\/srv|Gather/, 'nothing of the library\'s message or the file path');
    t.match(res.body.message, /logged, with no detail in the response/);
  }
  const after = await postJson(`${server.url}/api/predict`, { text: 'an ordinary tweet' });
  t.equal(after.status, 200, 'other texts are answered');
});
