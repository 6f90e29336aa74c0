import { Controller, Get, HttpCode, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Backbone } from '#infra';
import { BACKBONE } from './tokens.js';

/** The probes every HTTP-serving process answers, whatever its role. */
@Controller()
export class ProbesController {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

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
}
