// Types of scripts/deps-check.mjs, for its test.
export interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines?: { node?: string };
}
export interface Version { major: number; minor: number; patch: number }
export interface Latest { version: string; node?: string }
export interface Hold { reason: string; major(manifest: Manifest): number | undefined }
export interface Row {
  name: string;
  declared: string;
  installed: string | undefined;
  latest: string;
  latestNode: string | undefined;
  status: 'current' | 'behind' | 'held' | 'wrong hold';
  behind: number;
  heldAt?: number | undefined;
  reason?: string;
}
export const HELD: Record<string, Hold>;
export function floorMajor(range: string | undefined): number | undefined;
export function parseVersion(text: string | undefined): Version | undefined;
export function linesBehind(current: Version, latest: Version): number;
export function assess(manifest: Manifest, installed: Record<string, string | undefined>, latest: Record<string, Latest>, held?: Record<string, Hold>): Row[];
export function failures(rows: Row[], maxBehind: number): Row[];
export function report(rows: Row[], maxBehind: number): string;
