// The service's name and version as package.json states them, for the protocols' metadata (TEI /info
// `version`, V2 server metadata). Found by walking up from this file: it runs from server/ (tsx) and from
// dist/server/ (the build).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServiceInfo {
  name: string;
  version: string;
}

export function serviceInfo(from = dirname(fileURLToPath(import.meta.url))): ServiceInfo {
  for (let dir = from; ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const { name, version } = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServiceInfo>;
      return { name: name ?? 'tweet-sentiment-service', version: version ?? '0.0.0' };
    }
    if (dirname(dir) === dir) return { name: 'tweet-sentiment-service', version: '0.0.0' };
  }
}
