// The README's configuration and error tables and .env.example, rendered from the code's own lists
// (core/config.ts SETTINGS, server/http-errors.ts errorEntries). `npm run docs` writes them; test/integration/docs.test.ts
// fails when the committed files differ, so the docs cannot drift from the code.
import { SETTINGS } from '../core/config.js';
import { errorEntries } from './http-errors.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function configTable(): string {
  const rows = SETTINGS.map((setting) => {
    const flag = 'flag' in setting ? ` (\`${setting.flag}\`)` : '';
    return `| \`${setting.env}\`${flag} | ${cell(setting.defaultText)} | ${cell(setting.description)} |`;
  });
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

export function errorTable(): string {
  const rows = errorEntries().map((entry) => `| ${entry.status} | \`${entry.code}\` | ${cell(entry.description)} |`);
  return ['| Status | Code | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

export function envExample(): string {
  const lines = [
    '# Every setting of the service, with its default. Copy to .env (docker-compose reads it; for',
    '# `npm start`, export the ones you change). An empty value means the default.',
    '# Generated from core/config.ts by `npm run docs`; test/integration/docs.test.ts keeps it in step.',
    '',
  ];
  for (const setting of SETTINGS) {
    lines.push(`# ${setting.description}. Default: ${setting.defaultText}.`);
    lines.push(`${setting.env}=`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in a document. */
export function replaceSection(document: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`section ${name} not found`);
  return `${document.slice(0, from + start.length)}\n${content}\n${document.slice(to)}`;
}
