export type DeliveryOutcome = 'recorded' | 'duplicate' | 'ignored' | 'ping';
export type RejectionReason = 'signature' | 'payload' | 'too_large';

/** Webhook deliveries by outcome, for /metrics: a rejected delivery leaves no event, only this count. */
export class WebhookCounters {
  private readonly accepted = new Map<DeliveryOutcome, number>();
  private readonly rejected = new Map<RejectionReason, number>();

  accept(outcome: DeliveryOutcome): void {
    this.accepted.set(outcome, (this.accepted.get(outcome) ?? 0) + 1);
  }

  reject(reason: RejectionReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  rejectedCount(reason: RejectionReason): number {
    return this.rejected.get(reason) ?? 0;
  }

  prometheus(): string[] {
    return [
      '# HELP faasline_webhook_deliveries_total GitHub deliveries answered 2xx, by outcome.',
      '# TYPE faasline_webhook_deliveries_total counter',
      ...(['recorded', 'duplicate', 'ignored', 'ping'] as const).map((outcome) => `faasline_webhook_deliveries_total{outcome="${outcome}"} ${this.accepted.get(outcome) ?? 0}`),
      '# HELP faasline_webhook_rejected_total GitHub deliveries refused; none of them recorded an event.',
      '# TYPE faasline_webhook_rejected_total counter',
      ...(['signature', 'payload', 'too_large'] as const).map((reason) => `faasline_webhook_rejected_total{reason="${reason}"} ${this.rejected.get(reason) ?? 0}`),
    ];
  }
}
