// `npm run docs`: rewrites the README's configuration and error tables and .env.example from the code.
import { readFileSync, writeFileSync } from 'node:fs';
import { configTable, envExample, errorTable, replaceSection } from '../server/docs-tables.js';

const readme = new URL('../README.md', import.meta.url);
let text = readFileSync(readme, 'utf8');
text = replaceSection(text, 'config-table', configTable());
text = replaceSection(text, 'error-table', errorTable());
writeFileSync(readme, text);
writeFileSync(new URL('../.env.example', import.meta.url), envExample());
console.log('README.md tables and .env.example updated');
