// Outputs right for any head: models made here with a multi-label head (a sigmoid per label) and a
// regression head (the raw value), served by the real service with real workers, answer what their
// config.json problem_type means on every way in — the service's JSON (single, batch, stream), TEI (scores
// and raw_scores), the Hugging Face task route's default function_to_apply, V2's outputs and metadata, the
// command line — each score checked against the model's own logits, computed here with ONNX Runtime apart
// from the service. A single-label model's answers keep their shape; a reload may not change the head.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { ROOT, killOnExit } from '../../deploy/local-stack.js';
import { readTokenizerFiles } from '../../inference/model-files.js';
import { classify, createClassifierSession } from '../../inference/session.js';
import { TextTokenizer } from '../../inference/tokenizer.js';
import { makeHeadModel } from '../helpers/head-models.js';
import { collect, postStream } from '../helpers/ndjson.js';
import { assertSamePrediction } from '../helpers/predictions.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';

const TEXTS = ['I love this new phone, the camera is amazing!', 'worst customer service ever', 'the meeting moved to 3pm', 'so angry and so sad today'];
const EMOTIONS = ['anger', 'joy', 'optimism', 'sadness'];
const CLOSE = 1e-5;

/** The model's logits for each text, run here with ONNX Runtime, one text at a time (no padding). */
async function ownLogits(dir: string, width: number): Promise<number[][]> {
  const { tokenizerJson, tokenizerConfig } = readTokenizerFiles(dir);
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig, 512);
  const session = await createClassifierSession(join(dir, 'model.onnx'), 'cpu', 1, width);
  const rows: number[][] = [];
  for (const text of TEXTS) {
    const ids = tokenizer.encode(text).ids;
    rows.push([...await classify(session, [ids], ids.length, tokenizer.padId)]);
  }
  await session.session.release();
  return rows;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softmax = (row: number[]) => {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
};
const near = (a: number, b: number) => Math.abs(a - b) <= CLOSE;
const allNear = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => near(x, b[i]!));

function cli(args: string[], stdin: string, model: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'score', ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', MODEL_PATH: model, WORKERS: '1', INTRA_OP_THREADS: '1', LOG_LEVEL: 'warn' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

t.test('multi-label: a sigmoid per label on every route; label the top one, labels those at 0.5 or more', async (t) => {
  const dir = makeHeadModel({ problemType: 'multi_label_classification', labels: EMOTIONS });
  const logits = await ownLogits(dir, EMOTIONS.length);
  const server = await startTestService({ MODEL_PATH: dir });
  t.teardown(() => server.close());
  const { url } = server;

  const model = (await getJson(`${url}/api/model`)).body;
  t.equal(model.problemType, 'multi_label_classification', '/api/model names the head');
  const batch = (await postJson(`${url}/api/predict/batch`, { texts: TEXTS })).body.predictions;
  let sumsOffOne = 0;
  TEXTS.forEach((text, i) => {
    const expected = logits[i]!.map(sigmoid);
    const answer = batch[i];
    t.same(Object.keys(answer), ['label', 'score', 'labels', 'scores', 'truncated'], 'the multi-label shape');
    t.ok(allNear(EMOTIONS.map((label) => answer.scores[label]), expected), `"${text}": each label's score is the sigmoid of its logit`);
    const top = expected.indexOf(Math.max(...expected));
    t.equal(answer.label, EMOTIONS[top], 'label: the highest-scoring label');
    t.ok(near(answer.score, expected[top]!), 'score: its probability');
    const chosen = EMOTIONS.map((label, k) => [label, expected[k]!] as const).filter(([, p]) => p >= 0.5).sort((a, b) => b[1] - a[1]).map(([label]) => label);
    t.same(answer.labels, chosen, 'labels: every label at 0.5 or more, highest first');
    if (Math.abs(expected.reduce((a, b) => a + b, 0) - 1) > 0.1) sumsOffOne++;
  });
  t.ok(sumsOffOne > 0, 'independent probabilities: they do not sum to 1 (TEI would have softmaxed them)');
  const single = (await postJson(`${url}/api/predict`, { text: TEXTS[0] })).body;
  assertSamePrediction(t, single, batch[0], '/api/predict answers as the batch does');
  t.same(single.labels, batch[0].labels);

  const tei = (await postJson(`${url}/predict`, { inputs: TEXTS.map((text) => [text]) })).body as { label: string; score: number }[][];
  const teiRaw = (await postJson(`${url}/predict`, { inputs: TEXTS.map((text) => [text]), raw_scores: true })).body as { label: string; score: number }[][];
  TEXTS.forEach((_, i) => {
    const expected = logits[i]!.map(sigmoid);
    t.ok(tei[i]!.every(({ label, score }) => near(score, expected[EMOTIONS.indexOf(label)]!)), `TEI ${i}: the sigmoid scores`);
    t.same(tei[i]!.map(({ score }) => score), [...tei[i]!.map(({ score }) => score)].sort((a, b) => b - a), 'highest first');
    t.ok(teiRaw[i]!.every(({ label, score }) => near(score, logits[i]![EMOTIONS.indexOf(label)]!)), `TEI ${i}: raw_scores are the logits`);
  });

  const hf = (await postJson(`${url}/hf/text-classification`, { inputs: TEXTS })).body as { label: string; score: number }[][];
  const hfSoftmax = (await postJson(`${url}/hf/text-classification`, { inputs: TEXTS, parameters: { function_to_apply: 'softmax' } })).body as { label: string; score: number }[][];
  TEXTS.forEach((_, i) => {
    t.ok(hf[i]!.every(({ label, score }) => near(score, sigmoid(logits[i]![EMOTIONS.indexOf(label)]!))), `HF ${i}: the default function_to_apply is the head's, sigmoid`);
    const soft = softmax(logits[i]!);
    t.ok(hfSoftmax[i]!.every(({ label, score }) => near(score, soft[EMOTIONS.indexOf(label)]!)), `HF ${i}: softmax when asked`);
  });

  const v2 = (await postJson(`${url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [TEXTS.length], datatype: 'BYTES', data: TEXTS }] })).body;
  t.same(v2.outputs.map((o: { name: string }) => o.name), ['label', 'probabilities', 'logits']);
  t.same(v2.outputs[0].data, batch.map((p: { label: string }) => p.label), 'V2 label: the top label');
  t.ok(allNear(v2.outputs[1].data, logits.flatMap((row) => row.map(sigmoid))), 'V2 probabilities: the sigmoids');
  t.ok(allNear(v2.outputs[2].data, logits.flat()), 'V2 logits');
  const metadata = (await getJson(`${url}/v2/models/sentiment`)).body;
  t.equal(metadata.properties.problem_type, 'multi_label_classification', 'V2 metadata names the head');
  t.equal((await getJson(`${url}/info`)).body.model_type.classifier.problem_type, 'multi_label_classification', 'TEI /info names the head');

  const streamed = await collect((await postStream(url, TEXTS.map((text, id) => JSON.stringify({ id, text })).join('\n'))).lines);
  streamed.forEach(({ id, ...answer }, i) => {
    t.equal(id, i);
    assertSamePrediction(t, answer, batch[i], `stream line ${i} answers as the batch does`);
    t.same(answer.labels, batch[i].labels);
  });

  const csv = await cli(['-', '--format', 'text', '--output-format', 'csv', '--quiet'], `${TEXTS.join('\n')}\n`, dir);
  t.equal(csv.code, 0, csv.stderr);
  const rows = parse<Record<string, string>>(csv.stdout, { columns: true });
  t.same(Object.keys(rows[0]!), ['text', 'label', 'score', 'labels', ...EMOTIONS, 'truncated', 'error_code', 'error_message'], 'CSV: labels and one column per label');
  t.same(rows.map((row) => row.labels), batch.map((p: { labels: string[] }) => p.labels.join('|')), 'CSV labels joined with |');
});

t.test('regression: the raw value on every route, and no label', async (t) => {
  const dir = makeHeadModel({ problemType: 'regression', labels: ['score'] });
  const logits = await ownLogits(dir, 1);
  const server = await startTestService({ MODEL_PATH: dir });
  t.teardown(() => server.close());
  const { url } = server;

  t.equal((await getJson(`${url}/api/model`)).body.problemType, 'regression');
  const batch = (await postJson(`${url}/api/predict/batch`, { texts: TEXTS })).body.predictions;
  TEXTS.forEach((text, i) => {
    t.same(Object.keys(batch[i]), ['value', 'scores', 'truncated'], 'value, no label or score');
    t.ok(near(batch[i].value, logits[i]![0]!), `"${text}": value is the model's output`);
    t.ok(near(batch[i].scores.score, logits[i]![0]!), 'scores names it by id2label');
  });
  const tei = (await postJson(`${url}/predict`, { inputs: TEXTS.map((text) => [text]) })).body as { label: string; score: number }[][];
  const raw = (await postJson(`${url}/predict`, { inputs: TEXTS.map((text) => [text]), raw_scores: true })).body as { label: string; score: number }[][];
  const hf = (await postJson(`${url}/hf/text-classification`, { inputs: TEXTS })).body as { label: string; score: number }[][];
  TEXTS.forEach((_, i) => {
    t.ok(near(tei[i]![0]!.score, logits[i]![0]!) && near(raw[i]![0]!.score, logits[i]![0]!), `TEI ${i}: the raw value, with or without raw_scores`);
    t.ok(near(hf[i]![0]!.score, logits[i]![0]!), `HF ${i}: the default function_to_apply is none`);
  });
  const v2 = (await postJson(`${url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [TEXTS.length], datatype: 'BYTES', data: TEXTS }] })).body;
  t.same(v2.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]), [['value', [TEXTS.length, 1]], ['logits', [TEXTS.length, 1]]], 'V2: value and logits');
  t.ok(allNear(v2.outputs[0].data, logits.flat()), 'V2 value');
  const noLabel = await postJson(`${url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['x'] }], outputs: [{ name: 'label' }] });
  t.equal(noLabel.status, 400);
  t.same(noLabel.body, { error: "unknown output 'label'; the model's outputs are value, logits" }, 'a regression has no label output');
  t.same((await getJson(`${url}/v2/models/sentiment`)).body.outputs.map((o: { name: string }) => o.name), ['value', 'logits'], 'V2 metadata lists its outputs');

  const jsonl = await cli(['-', '--format', 'text', '--quiet'], `${TEXTS.join('\n')}\n`, dir);
  t.equal(jsonl.code, 0, jsonl.stderr);
  const records = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  t.ok(records.every((record, i) => near(record.value as number, logits[i]![0]!) && !('label' in record)), 'the command line writes the value, no label');
  const summary = await cli(['-', '--format', 'text', '--out', join(mkdtempSync(join(tmpdir(), 'regression-')), 'out.csv')], `${TEXTS.join('\n')}\n`, dir);
  const mean = logits.reduce((sum, row) => sum + row[0]!, 0) / TEXTS.length;
  const shown = Number(/mean value\s+(\S+)/.exec(summary.stderr)?.[1]);
  t.ok(Math.abs(shown - mean) < 1e-4, `the summary gives the mean value (${shown}, expected ${mean})`);
});

t.test('single-label models keep their answer; a reload may not change the head; a bad problem_type stops start-up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'single-label-'));
  cpSync(`${FIXTURES}bert-tiny`, dir, { recursive: true });
  const server = await startTestService({ MODEL_PATH: dir, ADMIN_API_KEYS: 'admin-key' });
  t.teardown(() => server.close());
  const { url } = server;
  const answer = (await postJson(`${url}/api/predict`, { text: TEXTS[0] })).body;
  t.same(Object.keys(answer), ['label', 'score', 'scores', 'truncated'], 'the shape single-label models always had');
  t.ok(near(Object.values(answer.scores as Record<string, number>).reduce((a, b) => a + b, 0), 1), 'softmax: the scores sum to 1');
  t.equal((await getJson(`${url}/api/model`)).body.problemType, 'single_label_classification', 'no problem_type and 3 labels: single-label');

  const multi = makeHeadModel({ problemType: 'multi_label_classification', labels: ['negative', 'neutral', 'positive'] });
  cpSync(multi, dir, { recursive: true });
  const refused = await postJson(`${url}/api/admin/reload`, {}, { 'x-api-key': 'admin-key' });
  t.equal(refused.status, 422);
  t.match(refused.body.message, /its head is multi_label_classification \(config\.json problem_type\), the served model's single_label_classification/);

  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, problem_type: 'ranking' }));
  await t.rejects(startTestService({ MODEL_PATH: dir }), { message: /problem_type must be one of single_label_classification, multi_label_classification, regression, got "ranking"/ });
});
