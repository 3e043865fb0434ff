// The README's API examples (`$ curl …` lines and what they print) are the shipped model's real answers:
// `npm run docs:examples` starts the shipped model in this process, sends each example's request and
// rewrites its output; test/integration/readme-examples.test.ts fails when the README no longer matches.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { startTestService } from '../test/helpers/service.js';

export const README = new URL('../README.md', import.meta.url).pathname;
export const SHIPPED_MODEL = new URL('../models/twitter-sentiment', import.meta.url).pathname;

export interface Example {
  /** The command as written (continuation lines included) and where its output sits in the README. */
  command: string;
  path: string;
  body: string;
  /** The command's `-H 'name: value'` headers. */
  headers: Record<string, string>;
  /** `curl -i`: the output starts with the status line and the content type. */
  withHeaders: boolean;
  output: string;
  start: number;
  end: number;
}

/** Every `$ curl` example of the README's "API" section's first console block, with its output. */
export function parseExamples(readme: string): Example[] {
  const api = readme.indexOf('\n## API\n');
  const blockStart = readme.indexOf('```sh\n$ curl', api);
  const blockEnd = readme.indexOf('\n```', blockStart + 6);
  if (api < 0 || blockStart < 0 || blockEnd < 0) throw new Error('README: no ```sh block of `$ curl` examples in the API section');
  const examples: Example[] = [];
  const block = readme.slice(blockStart, blockEnd + 1);
  for (const match of block.matchAll(/^\$ (curl (?:.*\\\n)*.*)\n((?:.+\n)+)/gm)) {
    const command = match[1]!;
    const path = /localhost:\d+(\/\S+)/.exec(command)?.[1];
    const body = /-d '([^']*)'/.exec(command)?.[1];
    if (path === undefined || body === undefined) throw new Error(`README example not understood: ${command}`);
    const headers = Object.fromEntries([...command.matchAll(/-H '([^':]+):\s*([^']*)'/g)].map(([, name, value]) => [name!.toLowerCase(), value!]));
    const outputStart = blockStart + match.index + match[0].length - match[2]!.length;
    examples.push({
      command, path, body, headers, withHeaders: /\s-s?i\b|\s-is\b/.test(command),
      output: match[2]!.replace(/\n$/, ''), start: outputStart, end: outputStart + match[2]!.length - 1,
    });
  }
  return examples;
}

/** What the service prints for an example, formatted as the README shows it. */
export async function answer(baseUrl: string, example: Example): Promise<{ status: number; statusText: string; contentType: string; body: string }> {
  const response = await fetch(`${baseUrl}${example.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...example.headers }, body: example.body });
  return { status: response.status, statusText: response.statusText, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

export function format(example: Example, reply: Awaited<ReturnType<typeof answer>>): string {
  if (!example.withHeaders) return reply.body;
  return [`HTTP/1.1 ${reply.status} ${reply.statusText}`, `content-type: ${reply.contentType}`, '...', reply.body].join('\n');
}

/** The shipped model, in process, with the settings `npm start` uses (no cache, so every answer is computed). */
export function startShippedModel() {
  return startTestService({ MODEL_PATH: SHIPPED_MODEL });
}

async function main(): Promise<void> {
  let readme = readFileSync(README, 'utf8');
  const server = await startShippedModel();
  try {
    // From the last example back, so that earlier offsets stay valid.
    for (const example of parseExamples(readme).reverse()) {
      readme = readme.slice(0, example.start) + format(example, await answer(server.url, example)) + readme.slice(example.end);
    }
  } finally {
    await server.close();
  }
  writeFileSync(README, readme);
  console.log('README.md API examples rewritten from the shipped model');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
