// The playground: sends the typed tweets to this service's own API and shows each answer in words and bars.
// No framework and nothing from another origin (the page's Content-Security-Policy allows only 'self').
// Paths are relative, so the page works at / and behind a proxy that serves it under a prefix.
'use strict';

const form = document.getElementById('form');
const textsInput = document.getElementById('texts');
const keyInput = document.getElementById('key');
const explainInput = document.getElementById('explain');
const submitButton = document.getElementById('submit');
const errorBox = document.getElementById('error');
const results = document.getElementById('results');
const statusLine = document.getElementById('status');
const summary = document.getElementById('summary');
const rows = document.getElementById('rows');

// The server writes its MAX_CLIENT_BATCH into the page; 64 (the default) if the page is opened otherwise.
const maxClientBatch = Number(document.querySelector('meta[name="max-client-batch"]')?.content) || 64;

/** An answer the service refused, with what a person should read. */
class ServiceError extends Error {}

function seconds(response) {
  const value = Number(response.headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function retryIn(response) {
  const after = seconds(response);
  return after === undefined ? 'Try again in a moment.' : `Try again in ${after} second${after === 1 ? '' : 's'}.`;
}

/** The error body's code and message, when the body is the service's JSON error. */
async function readError(response) {
  try {
    const body = await response.json();
    return { code: String(body.code ?? ''), message: String(body.message ?? '') };
  } catch {
    return { code: '', message: '' };
  }
}

/** Words for a refused request: what happened and what to do, never the raw JSON. */
function explain(response, { code, message }) {
  switch (response.status) {
    case 400:
      return `The service could not accept this text: ${message || 'it is not valid'}. Check for empty lines made only of spaces or unusual characters.`;
    case 401:
      return keyInput.value === ''
        ? 'This service needs an API key. Enter your key in the API key field and send again.'
        : 'The service did not accept this API key. Check the key in the API key field and send again.';
    case 403:
      return 'This key may not use this part of the service.';
    case 413:
      if (code === 'TEXT_TOO_LONG') return `One of the tweets is too long for this service: ${message}. Shorten it and send again.`;
      if (code === 'TOO_MANY_TEXTS') return `Too many tweets in one request: ${message}.`;
      return 'The request is too large for this service. Send fewer or shorter tweets.';
    case 415:
      return 'The service refused the request format (it expects JSON).';
    case 429:
      return `Too many requests: this client has used its request budget for now. ${retryIn(response)}`;
    case 502:
      return `No server behind the load balancer could be reached. ${retryIn(response)}`;
    case 503:
      if (code === 'QUEUE_FULL') return `The service is busy: its queue is full. ${retryIn(response)}`;
      if (code === 'SHUTTING_DOWN') return `This server is shutting down. ${retryIn(response)}`;
      if (code === 'WORKER_CRASHED') return `A worker of the service failed while running these tweets; it is being replaced. Sending again is safe. ${retryIn(response)}`;
      if (code === 'OVERLOADED') return `The service is overloaded. ${retryIn(response)}`;
      return `The service is not available right now. ${retryIn(response)}`;
    case 504:
      return 'The service took too long to answer (it is overloaded). Try again, or send fewer tweets at once.';
    default:
      return `The service answered with an error (HTTP ${response.status}${message ? `: ${message}` : ''}).`;
  }
}

async function call(path, body) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  // The key lives in the input field only: nothing is stored, and it is sent to this origin alone.
  if (keyInput.value !== '') headers.authorization = `Bearer ${keyInput.value}`;
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch {
    throw new ServiceError('The service could not be reached. Check that it is running and that this page can reach it.');
  }
  if (!response.ok) throw new ServiceError(explain(response, await readError(response)));
  const timings = {
    queue: response.headers.get('x-queue-time'),
    inference: response.headers.get('x-inference-time'),
    total: response.headers.get('x-total-time'),
    model: response.headers.get('x-model-version'),
    cache: response.headers.get('x-cache'),
  };
  return { body: await response.json(), timings };
}

/** One request for one tweet; batch requests of at most MAX_CLIENT_BATCH for many. */
async function predictAll(texts, explain, onChunk) {
  const extra = explain ? { explain: true } : {};
  if (texts.length === 1) {
    const { body, timings } = await call('api/predict', { text: texts[0], ...extra });
    onChunk(texts, [body], timings);
    return;
  }
  for (let start = 0; start < texts.length; start += maxClientBatch) {
    const chunk = texts.slice(start, start + maxClientBatch);
    const { body, timings } = await call('api/predict/batch', { texts: chunk, ...extra });
    onChunk(chunk, body.predictions, timings);
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(value) {
  return `${(value * 100).toFixed(1)} %`;
}

/** How the answer reads: its label (and, for a multi-label model, every label it gives), or a regression's value. */
function renderVerdict(prediction) {
  const verdict = element('p', 'verdict');
  if (prediction.value !== undefined) {
    verdict.append('Value: ', element('strong', 'label', String(prediction.value)));
  } else if (prediction.labels !== undefined) {
    verdict.append('Labels: ', element('strong', 'label', prediction.labels.length > 0 ? prediction.labels.join(', ') : 'none at 50 % or more'),
      ` (top: ${prediction.label}, ${percent(prediction.score)})`);
  } else {
    verdict.append('Label: ', element('strong', 'label', prediction.label), ` (${percent(prediction.score)})`);
  }
  if (prediction.truncated) verdict.append(element('span', 'note', ' · cut to the model\'s length'));
  return verdict;
}

/**
 * The tweet's words coloured by their weight: the words that carry the label in its colour, those that pull
 * away from it in blue, as strong as their weight against the heaviest word's.
 */
function renderExplanation(explanation) {
  const line = element('p', 'explanation');
  line.append(element('span', 'explanation-title', 'Why: '));
  const heaviest = Math.max(...explanation.map((word) => Math.abs(word.weight)), 1e-9);
  explanation.forEach((word, i) => {
    if (i > 0) line.append(' ');
    const span = element('span', `word ${word.weight >= 0 ? 'for' : 'against'}`, word.text);
    span.style.setProperty('--weight', (Math.abs(word.weight) / heaviest).toFixed(3));
    span.title = `${word.weight >= 0 ? '+' : ''}${word.weight.toFixed(4)}`;
    line.append(span);
  });
  return line;
}

/** One result: the tweet, its label, a bar per class, the words' weights if asked, and the request's timings. */
function renderRow(text, prediction, timings) {
  const row = element('li', `row label-${prediction.label ?? 'value'}`);
  row.append(element('p', 'tweet', text));
  row.append(renderVerdict(prediction));

  const bars = element('dl', 'bars');
  // A regression's outputs are no probabilities: no bars.
  for (const [label, score] of prediction.value === undefined ? Object.entries(prediction.scores) : []) {
    const id = `bar-${rows.children.length}-${label}`;
    const term = element('dt', 'bar-label');
    const name = element('label', undefined, label);
    name.htmlFor = id;
    term.append(name);
    const meter = element('meter', `bar bar-${label}`);
    meter.id = id;
    meter.min = 0;
    meter.max = 1;
    meter.value = score;
    const value = element('dd', 'bar-value');
    value.append(meter, element('span', 'bar-number', percent(score)));
    bars.append(term, value);
  }
  row.append(bars);
  if (prediction.explanation !== undefined) row.append(renderExplanation(prediction.explanation));

  row.append(element('p', 'timings',
    `queue ${timings.queue} ms · inference ${timings.inference} ms · total ${timings.total} ms · model ${timings.model} · cache ${timings.cache}`));
  return row;
}

function renderSummary(counts, total) {
  summary.replaceChildren(element('h2', undefined, `Summary of ${total} tweets`));
  const list = element('ul', 'shares');
  for (const [label, count] of Object.entries(counts).sort((a, b) => b[1] - a[1])) {
    list.append(element('li', `share label-${label}`, `${label}: ${count} (${percent(count / total)})`));
  }
  summary.append(list);
  summary.hidden = false;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

async function submit() {
  const texts = textsInput.value.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  errorBox.hidden = true;
  summary.hidden = true;
  rows.replaceChildren();
  if (texts.length === 0) {
    statusLine.textContent = '';
    showError('Type a tweet first (one a line).');
    textsInput.focus();
    return;
  }
  submitButton.disabled = true;
  results.setAttribute('aria-busy', 'true');
  statusLine.textContent = `Sending ${texts.length} tweet${texts.length === 1 ? '' : 's'}…`;
  const counts = {};
  let done = 0;
  try {
    await predictAll(texts, explainInput.checked, (chunk, predictions, timings) => {
      predictions.forEach((prediction, i) => {
        rows.append(renderRow(chunk[i], prediction, timings));
        for (const label of prediction.labels ?? (prediction.label === undefined ? [] : [prediction.label])) counts[label] = (counts[label] ?? 0) + 1;
      });
      done += predictions.length;
    });
    statusLine.textContent = `${done} result${done === 1 ? '' : 's'}.`;
    if (done > 1) renderSummary(counts, done);
  } catch (error) {
    statusLine.textContent = done > 0 ? `${done} of ${texts.length} results before the error.` : '';
    if (done > 1) renderSummary(counts, done);
    showError(error instanceof ServiceError ? error.message : `Something went wrong in this page: ${error}`);
  } finally {
    submitButton.disabled = false;
    results.setAttribute('aria-busy', 'false');
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void submit();
});

// Ctrl+Enter (⌘+Enter) sends from anywhere in the form, as in most chat and code-review tools.
form.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
  }
});
