// Regenerates docs/playground.png, the README's picture of the playground: the shipped model served in this
// process, a few tweets pasted into the page in Debian's Chromium (as test/system/playground.test.ts drives it),
// with "Explain" ticked so that each tweet's words are coloured by their weight.
//   npx tsx scripts/playground-screenshot.ts
import { launchBrowser } from '../test/helpers/browser.js';
import { startTestService } from '../test/helpers/service.js';

const OUTPUT = new URL('../docs/playground.png', import.meta.url).pathname;
const TWEETS = [
  'I love this new phone, the camera is amazing!',
  'worst customer service ever, but the staff were lovely',
  'the meeting moved to 3pm',
  'what a great game tonight',
];

const server = await startTestService({ MODEL_PATH: new URL('../models/twitter-sentiment', import.meta.url).pathname });
const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 900, height: 1250 });
  await page.goto(`${server.url}/`);
  await page.getByLabel('Tweets, one a line').fill(TWEETS.join('\n'));
  await page.getByLabel('Explain: weigh each word').check();
  await page.getByRole('button', { name: 'Get sentiment' }).click();
  await page.locator('#summary').waitFor();
  await page.screenshot({ path: OUTPUT, fullPage: true });
  console.log(`wrote ${OUTPUT}`);
} finally {
  await browser.close();
  await server.close();
}
