import { Controller, Get, Header, HttpCode, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { INGRESS_COUNTERS } from '../tokens.js';
import type { WebhookCounters } from '../webhooks/webhook-counters.js';
import { readMetrics } from './metrics.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(INGRESS_COUNTERS) private readonly webhooks: WebhookCounters,
  ) {}

  /** Alive: the process answers. Orchestrators restart it when this fails. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Ready: storage answers and, with Kafka, the broker does too. Load balancers route only when this passes. */
  @Get('readyz')
  async readyz() {
    const checks = await this.backbone.readiness();
    const ready = Object.values(checks).every((check) => check === 'ok');
    if (!ready) throw new HttpException({ status: 'unavailable', checks }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok', checks };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async metrics() {
    return `${await readMetrics(this.backbone)}${this.webhooks.prometheus().join('\n')}\n`;
  }
}
