// Types of scripts/fetch-data.mjs, for its test.
export const SOURCE: string;
export const SPLITS: Record<'train' | 'val' | 'test', string>;
export const DEFAULT_DIR: string;
export function parseMapping(text: string): string[];
export function toJsonl(textFile: string, labelFile: string, mapping: string[]): string;
