// Types of scripts/test-prerequisites.mjs, for its test.
export interface Tool { command: string; modules?: string[]; apt: string; aptAlso?: string[]; brew: string; service?: string; why: string }
export interface Machine { platform: string; isRoot: boolean; hasApt: boolean }
export type Plan =
  | { action: 'none' }
  | { action: 'install'; commands: string[][]; services: string[] }
  | { action: 'stop'; lines: string[] };
export const TOOLS: Tool[];
export function searchDirs(pathVariable: string | undefined): string[];
export function missingTools<T extends { command: string; modules?: string[] }>(tools: T[], dirs: string[], exists?: (path: string) => boolean, importsAll?: (python: string, modules: string[]) => boolean): T[];
export function plan(missing: Tool[], machine: Machine): Plan;
