// The Prometheus series of shadow scoring (core/shadow.ts): how the candidate model compares with the live
// one on the live texts it was given, and what it cost each. They exist, at 0, whether or not a candidate is
// loaded, so that dashboards and rules always have a series to read.
import client from '@prometheus-io/client';

export const SHADOW_SKIP_REASONS = ['live_busy', 'shadow_full'] as const;
export type ShadowSkipReason = (typeof SHADOW_SKIP_REASONS)[number];

export class ShadowMetrics {
  /** Texts scored by both models. */
  readonly compared: client.Counter;
  /** Of them, those the two models gave the same label. */
  readonly agreed: client.Counter;
  readonly confusion: client.Counter<'candidate' | 'live'>;
  readonly skipped: client.Counter<'reason'>;
  /** Worker time spent on the compared texts (each text's share of its batch), by model. */
  readonly inferenceSeconds: client.Counter<'model'>;
  readonly candidateInfo: client.Gauge<'name' | 'sha256'>;

  constructor(registers: client.Registry[]) {
    this.compared = new client.Counter({
      name: 'sentiment_shadow_compared_total', help: 'Live texts scored by the shadow candidate model too', registers,
    });
    this.agreed = new client.Counter({
      name: 'sentiment_shadow_agreed_total', help: 'Compared texts to which the candidate gave the live model\'s label', registers,
    });
    this.confusion = new client.Counter({
      name: 'sentiment_shadow_confusion_total', help: 'Compared texts by the candidate\'s label and the live model\'s', registers,
      labelNames: ['candidate', 'live'],
    });
    this.skipped = new client.Counter({
      name: 'sentiment_shadow_skipped_total', help: 'Sampled live texts the candidate did not score: live_busy (the live queue was not empty), shadow_full (the candidate\'s queue was full)', registers,
      labelNames: ['reason'],
    });
    this.inferenceSeconds = new client.Counter({
      name: 'sentiment_shadow_inference_seconds_total', help: 'Worker time spent on the compared texts (each text\'s share of its batch), by model: live or candidate; ÷ sentiment_shadow_compared_total is the time per text', registers,
      labelNames: ['model'],
    });
    this.candidateInfo = new client.Gauge({
      name: 'sentiment_shadow_model_info', help: 'The shadow candidate model (value 1 while one is loaded), with its name and sha256', registers,
      labelNames: ['name', 'sha256'],
    });
    this.compared.inc(0);
    this.agreed.inc(0);
    for (const reason of SHADOW_SKIP_REASONS) this.skipped.labels(reason).inc(0);
    for (const model of ['live', 'candidate']) this.inferenceSeconds.labels(model).inc(0);
  }
}
