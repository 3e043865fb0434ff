// The playground page at /, in a real browser (Debian's Chromium) against the real service over real HTTP:
// the answers it shows are the API's, errors read as words, it is usable from the keyboard, it loads
// nothing from anywhere else and logs no error. GET / for non-browsers is Hugging Face TEI's health check.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { startLocalNginx } from '../../deploy/local-stack.js';
import { NGINX_CONF } from '../../deploy/render-local.mjs';
import { PLAYGROUND_CSP } from '../../server/routes/playground.js';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { makeHeadModel } from '../helpers/head-models.js';
import { postJson, startTestService, type TestService } from '../helpers/service.js';

const SHIPPED_MODEL = new URL('../../models/twitter-sentiment', import.meta.url).pathname;
const KEY = 'playground-key-4b1d';

interface Watched { page: Page; requests: string[]; problems: string[] }

/** A new page that records every request it makes and every console error or uncaught exception. */
async function openPage(browser: Browser, url: string): Promise<Watched> {
  const page = await browser.context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(String(error)));
  await page.goto(url);
  return { page, requests, problems };
}

/** The id of the element with keyboard focus (evaluated in the page, whose DOM types this project does not load). */
function focused(page: Page): Promise<string | undefined> {
  return page.evaluate<string | undefined>('document.activeElement?.id');
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Tweets, one a line').fill(text);
  await page.getByRole('button', { name: 'Get sentiment' }).click();
  await page.locator('#submit:enabled').waitFor();
}

let browser: Browser;
t.before(async () => { browser = await launchBrowser(); });
t.teardown(() => browser.close());

t.test('the shipped model in the page: right labels, the API\'s scores, timings, 20 lines, keyboard, same origin only', async (t) => {
  const server: TestService = await startTestService({ MODEL_PATH: SHIPPED_MODEL });
  t.teardown(() => server.close());
  const { page, requests, problems } = await openPage(browser, `${server.url}/`);

  const page200 = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
  t.equal(page200.status, 200);
  t.match(page200.headers.get('content-security-policy'), /default-src 'self'; script-src 'self'/, 'a strict Content-Security-Policy');
  t.match(await page200.text(), /<meta name="max-client-batch" content="64">/, 'the page knows MAX_CLIENT_BATCH');

  for (const [text, expected] of [['I love this new phone, the camera is amazing!', 'positive'], ['worst customer service ever', 'negative']] as const) {
    await send(page, text);
    const api = await postJson(`${server.url}/api/predict`, { text });
    t.equal(api.body.label, expected, `the API says ${expected}`);
    const row = page.locator('#rows li');
    t.equal(await row.count(), 1, 'one row');
    t.equal(await row.locator('.label').textContent(), expected, `the page shows ${expected} for "${text}"`);
    for (const [label, score] of Object.entries(api.body.scores as Record<string, number>)) {
      t.equal(Number(await row.locator(`meter.bar-${label}`).getAttribute('value')), score, `the ${label} bar is the API's probability`);
      t.equal(await row.getByLabel(label, { exact: true }).count(), 1, `the ${label} bar is labelled`);
    }
    t.match(await row.locator('.timings').textContent(), new RegExp(`^queue \\d+\\.\\d{3} ms · inference \\d+\\.\\d{3} ms · total \\d+\\.\\d{3} ms · model ${api.headers.get('x-model-version')} · cache (miss|hit)$`), 'timings and model version from the headers');
    t.equal(await page.locator('#summary').isHidden(), true, 'no summary for one tweet');
  }

  const lines = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `what a great day number ${i}, loving it` : `this is the worst delay ever, number ${i}`));
  await send(page, lines.join('\n'));
  t.equal(await page.locator('#rows li').count(), 20, '20 rows for 20 lines');
  const batch = await postJson(`${server.url}/api/predict/batch`, { texts: lines });
  const shown = await page.locator('#rows li .label').allTextContents();
  t.same(shown, batch.body.predictions.map((p: { label: string }) => p.label), 'each row is its line\'s answer, in order');
  const counts: Record<string, number> = {};
  for (const label of shown) counts[label] = (counts[label] ?? 0) + 1;
  const summary = await page.locator('#summary').textContent();
  t.match(summary, /Summary of 20 tweets/);
  for (const [label, count] of Object.entries(counts)) t.match(summary, `${label}: ${count} (${(count / 20 * 100).toFixed(1)} %)`, `the summary counts ${label}`);

  // Keyboard only: Tab from the top reaches the text box first; Ctrl+Enter sends.
  await page.reload();
  await page.keyboard.press('Tab');
  t.equal(await focused(page), 'texts', 'the first Tab stop is the text box');
  await page.keyboard.type('worst customer service ever');
  await page.keyboard.press('Tab');
  t.equal(await focused(page), 'key', 'then the API key');
  await page.keyboard.press('Tab');
  t.equal(await focused(page), 'explain', 'then the explain box');
  await page.keyboard.press('Tab');
  t.equal(await focused(page), 'submit', 'then the button');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Control+Enter');
  await page.locator('#rows li').first().waitFor();
  t.equal(await page.locator('#rows li .label').textContent(), 'negative', 'Ctrl+Enter submitted');
  t.equal(await page.locator('#results').getAttribute('aria-live'), 'polite', 'results are announced');

  t.ok(requests.length >= 3, `${requests.length} requests recorded`);
  t.same(requests.filter((url) => !url.startsWith(`${server.url}/`)), [], 'no request leaves the origin');
  t.same(problems, [], 'no console error');
  await page.close();
});

t.test('explain: each word coloured by its weight, as the API weighs it; other heads read as theirs', async (t) => {
  const server = await startTestService({ MODEL_PATH: SHIPPED_MODEL });
  t.teardown(() => server.close());
  const { page, problems } = await openPage(browser, `${server.url}/`);
  const text = 'worst customer service ever, but the staff were lovely';
  await page.getByLabel('Explain: weigh each word').check();
  await send(page, text);
  const api = (await postJson(`${server.url}/api/predict`, { text, explain: true })).body as { explanation: { text: string; weight: number }[] };
  const words = page.locator('#rows li .explanation .word');
  t.same(await words.allTextContents(), api.explanation.map((word) => word.text), 'every word, in order');
  const heaviest = Math.max(...api.explanation.map((word) => Math.abs(word.weight)));
  for (const [i, word] of api.explanation.entries()) {
    const span = words.nth(i);
    t.equal(await span.getAttribute('class'), `word ${word.weight >= 0 ? 'for' : 'against'}`, `"${word.text}" ${word.weight >= 0 ? 'carries' : 'pulls away from'} the label`);
    const shown = Number(await span.evaluate((node) => (node as unknown as { style: { getPropertyValue(name: string): string } }).style.getPropertyValue('--weight')));
    t.ok(Math.abs(shown - Math.abs(word.weight) / heaviest) < 1e-3, `"${word.text}": its colour's strength is its weight against the heaviest word's`);
  }
  const top = api.explanation.findIndex((word) => Math.abs(word.weight) === heaviest);
  // Evaluated in the page, whose DOM types this project does not load.
  const background = await words.nth(top).evaluate((node) => (globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }).getComputedStyle(node).backgroundColor);
  t.not(background, 'rgba(0, 0, 0, 0)', `the heaviest word, "${api.explanation[top]!.text}", is coloured (${background})`);
  t.same(problems, [], 'no console error');
  await page.close();

  const multi = await startTestService({ MODEL_PATH: makeHeadModel({ problemType: 'multi_label_classification', labels: ['anger', 'joy', 'optimism', 'sadness'] }) });
  t.teardown(() => multi.close());
  const multiPage = (await openPage(browser, `${multi.url}/`)).page;
  await send(multiPage, 'I love this so much');
  const answer = (await postJson(`${multi.url}/api/predict`, { text: 'I love this so much' })).body as { label: string; labels: string[] };
  t.match(await multiPage.locator('#rows li .verdict').textContent(), `Labels: ${answer.labels.length > 0 ? answer.labels.join(', ') : 'none at 50 % or more'} (top: ${answer.label}`, 'a multi-label model: every label it gives');
  await multiPage.close();
  const regression = await startTestService({ MODEL_PATH: makeHeadModel({ problemType: 'regression', labels: ['score'] }) });
  t.teardown(() => regression.close());
  const regressionPage = (await openPage(browser, `${regression.url}/`)).page;
  await send(regressionPage, 'I love this so much');
  const value = (await postJson(`${regression.url}/api/predict`, { text: 'I love this so much' })).body.value as number;
  t.equal(await regressionPage.locator('#rows li .verdict').textContent(), `Value: ${value}`, 'a regression: its value');
  t.equal(await regressionPage.locator('#rows li meter').count(), 0, 'and no probability bars');
  await regressionPage.close();
});

t.test('with API keys: the page is public, a wrong key reads as words, the right key works', async (t) => {
  const server = await startTestService({ API_KEYS: KEY, RATE_LIMIT_MAX: '3' });
  t.teardown(() => server.close());
  const { page, problems } = await openPage(browser, `${server.url}/`);
  t.equal(await page.title(), 'Tweet sentiment playground', 'the page needs no key');

  await page.getByLabel('API key').fill('not-the-key');
  await send(page, 'hello there');
  t.equal(await page.locator('#error').textContent(), 'The service did not accept this API key. Check the key in the API key field and send again.');
  t.equal(await page.locator('#rows li').count(), 0);

  await page.getByLabel('API key').fill(KEY);
  await send(page, 'hello there');
  t.equal(await page.locator('#error').isHidden(), true, 'the error is gone');
  t.equal(await page.locator('#rows li').count(), 1, 'the right key gets an answer');

  // RATE_LIMIT_MAX=3 for this key: one call spent above, two more, then the limit.
  await send(page, 'a\nb');
  await send(page, 'c');
  await send(page, 'd');
  t.match(await page.locator('#error').textContent(), /^Too many requests: this client has used its request budget for now\. Try again in \d+ seconds?\.$/);
  // The browser logs failed fetches (401, 429) itself; nothing else may appear.
  t.same(problems.filter((text) => !/status of 40[1-9]|status of 429/.test(text)), [], 'no console error from the page');
  await page.close();
});

t.test('GET / for non-browsers is TEI\'s health check; PLAYGROUND=0 serves no page', async (t) => {
  const server = await startTestService({});
  const health = await fetch(`${server.url}/`, { headers: { accept: 'application/json' } });
  t.equal(health.status, 200);
  t.equal(await health.text(), '', 'an empty body, as TEI answers');
  t.equal((await fetch(`${server.url}/`)).status, 200, 'no Accept header: the health check too');
  const asset = await fetch(`${server.url}/playground/app.js`);
  t.equal(asset.status, 200);
  t.match(asset.headers.get('content-type'), /^text\/javascript/);

  await server.service.predictor.close();
  const closing = await fetch(`${server.url}/`, { headers: { accept: 'application/json' } });
  t.equal(closing.status, 503, 'unhealthy while shutting down');
  t.same(await closing.json(), { error: 'the server is shutting down', error_type: 'Unhealthy' });
  t.ok(Number(closing.headers.get('retry-after')) > 0, 'with Retry-After');
  await server.service.app.close();

  const off = await startTestService({ PLAYGROUND: '0' });
  t.teardown(() => off.close());
  const noPage = await fetch(`${off.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
  t.equal(noPage.status, 200);
  t.equal(await noPage.text(), '', 'a browser gets the health check, not the page');
  t.equal((await fetch(`${off.url}/playground/app.js`)).status, 404, 'no assets either');
});

t.test('behind NGINX (the project\'s nginx.conf): page, assets and predictions, one Content-Security-Policy', async (t) => {
  t.ok(readFileSync(NGINX_CONF, 'utf8').includes(`"${PLAYGROUND_CSP}"`), 'nginx.conf sends the page\'s own policy');
  const server = await startTestService({});
  t.teardown(() => server.close());
  const nginx = await startLocalNginx({ upstreams: [new URL(server.url).host], dir: mkdtempSync(join(tmpdir(), 'playground-nginx-')) });
  t.teardown(() => nginx.stop());
  const html = await fetch(`${nginx.url}/`, { headers: { accept: 'text/html' } });
  t.equal(html.status, 200);
  t.equal(html.headers.get('content-security-policy'), PLAYGROUND_CSP, 'one policy, the page\'s');
  t.equal(html.headers.get('x-content-type-options'), 'nosniff', 'sent once');
  const health = await fetch(`${nginx.url}/`);
  t.equal(health.status, 200, 'TEI health through NGINX');
  t.equal(await health.text(), '');

  const { page, requests, problems } = await openPage(browser, `${nginx.url}/`);
  await send(page, 'first line\nsecond line');
  t.equal(await page.locator('#rows li').count(), 2, 'predictions through NGINX');
  t.same(requests.filter((url) => !url.startsWith(`${nginx.url}/`)), [], 'no request leaves the origin');
  t.same(problems, [], 'no console error (nothing blocked by the policy)');
  await page.close();
});
