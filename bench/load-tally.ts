// What both load generators (autocannon's in load.ts, the one-connection client in sequential-load.ts) keep
// of a load's answers: every 2xx body checked against its call, texts counted only when valid, a few
// examples of what went wrong; and the progress line they print each second.
import type { CallKind } from './tweets.js';
import { callProblem, type CallContext } from './validate.js';

export class AnswerTally {
  invalid = 0;
  textsOk = 0;
  readonly validByKind: Record<CallKind, number> = { api: 0, tei: 0, v2: 0, hf: 0 };
  readonly problems: string[] = [];
  readonly #labels: readonly string[] | undefined;

  constructor(labels: readonly string[] | undefined) {
    this.#labels = labels;
  }

  /** Checks one response. */
  response(status: number, body: string, context: CallContext): void {
    if (status >= 200 && status < 300) {
      const problem = callProblem(body, context, this.#labels);
      if (problem === undefined) {
        this.textsOk += context.texts ?? 1;
        this.validByKind[context.kind ?? 'api']++;
        return;
      }
      this.invalid++;
      this.#note(`${status}: ${problem}`);
    } else {
      this.#note(`${status}: ${body.slice(0, 200)}`);
    }
  }

  #note(problem: string): void {
    if (this.problems.length < 5) this.problems.push(problem);
  }
}

/** The per-second progress line on stderr: rewritten in place on a terminal, every 5 s otherwise. */
export class ProgressLine {
  #second = 0;
  #lastLength = 0;
  readonly #isTty = process.stderr.isTTY === true;

  constructor(readonly label: string, readonly connections: number, readonly durationS: number, readonly show: boolean) {}

  tick(requestsThisSecond: number, invalid: number): void {
    this.#second++;
    if (!this.show || this.#second > this.durationS) return;
    const line = `  ${this.label}  c=${this.connections}  ${this.#second}/${this.durationS} s  ${requestsThisSecond.toLocaleString('en-US')} req/s  invalid ${invalid}`;
    if (this.#isTty) process.stderr.write(`\r${line.padEnd(this.#lastLength)}`);
    else if (this.#second % 5 === 0 || this.#second === this.durationS) process.stderr.write(`${line}\n`);
    this.#lastLength = line.length;
  }

  done(): void {
    if (this.show && this.#isTty) process.stderr.write('\n');
  }
}
