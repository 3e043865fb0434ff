// What the command line tells the person running it, on stderr: a progress bar while it runs (cli-progress;
// only on a terminal, never mixed into output on a terminal, never with --quiet) and a summary at the end:
// texts, per-label counts and shares (a multi-label model: the texts given each label; a regression: the
// mean value), errors, elapsed time, texts per second.
import cliProgress from 'cli-progress';
import type { Scored } from './outputs.js';

export class Tally {
  texts = 0;
  errors = 0;
  skipped = 0;
  readonly labels = new Map<string, number>();
  /** Regression models: the values' sum and count. */
  valueSum = 0;
  values = 0;
  readonly errorCodes = new Map<string, number>();
  readonly started = performance.now();

  count(run: readonly Scored[]): void {
    for (const item of run) {
      this.texts++;
      const prediction = item.prediction;
      if (prediction !== undefined) {
        if (prediction.value !== undefined) {
          this.valueSum += prediction.value;
          this.values++;
        }
        for (const label of prediction.labels ?? (prediction.label === undefined ? [] : [prediction.label])) this.labels.set(label, (this.labels.get(label) ?? 0) + 1);
      } else if (item.error !== undefined) {
        this.errors++;
        this.errorCodes.set(item.error.code, (this.errorCodes.get(item.error.code) ?? 0) + 1);
      }
    }
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  summary(labels: readonly string[], interrupted: boolean): string {
    const rate = this.texts / Math.max(this.seconds, 1e-9);
    const lines = [
      `${interrupted ? 'interrupted: ' : ''}${this.texts.toLocaleString('en-US')} texts in ${this.seconds.toFixed(1)} s (${Math.round(rate).toLocaleString('en-US')} texts/s)${this.skipped > 0 ? `, after ${this.skipped.toLocaleString('en-US')} already in the output (--resume)` : ''}`,
    ];
    const scored = this.texts - this.errors;
    if (this.values > 0) lines.push(`  ${'mean value'.padEnd(12)} ${(this.valueSum / this.values).toPrecision(6).padStart(12)}`);
    else for (const label of new Set([...labels, ...this.labels.keys()])) {
      const n = this.labels.get(label) ?? 0;
      lines.push(`  ${label.padEnd(12)} ${n.toLocaleString('en-US').padStart(12)}  ${scored > 0 ? ((100 * n) / scored).toFixed(1) : '0.0'}%`);
    }
    const codes = [...this.errorCodes].map(([code, n]) => `${code} ${n}`).join(', ');
    lines.push(`  ${'errors'.padEnd(12)} ${this.errors.toLocaleString('en-US').padStart(12)}${codes ? `  (${codes})` : ''}`);
    return `${lines.join('\n')}\n`;
  }
}

export interface Progress {
  update(tally: Tally, bytesRead: number): void;
  stop(): void;
}

export function startProgress(show: boolean, totalBytes: number | undefined): Progress {
  if (!show) return { update() {}, stop() {} };
  const known = totalBytes !== undefined && totalBytes > 0;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: known
      ? '{bar} {percentage}% | {lines} lines | {rate} texts/s | ETA {eta_formatted}'
      : '{lines} lines | {rate} texts/s',
    hideCursor: true,
    etaBuffer: 50,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  bar.start(known ? totalBytes : 1, 0, { lines: '0', rate: '0' });
  return {
    update(tally, bytesRead) {
      bar.update(known ? Math.min(bytesRead, totalBytes) : 0, {
        lines: tally.texts.toLocaleString('en-US'),
        rate: Math.round(tally.texts / Math.max(tally.seconds, 1e-9)).toLocaleString('en-US'),
      });
    },
    stop() { bar.stop(); },
  };
}
