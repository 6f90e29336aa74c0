import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { Backbone, Backlog } from '#infra';
import { BACKBONE } from '#kernel';
import { BACKLOG } from '../tokens.js';
import { backboneMetrics, METRICS_CONTENT_TYPE } from './metrics.js';

/** Prometheus metrics: the process's own and the backbone's (the probes are the kernel's). */
@Controller()
export class HealthController {
  private readonly scrape: () => Promise<string>;

  constructor(@Inject(BACKBONE) backbone: Backbone, @Inject(BACKLOG) backlog: Backlog) {
    this.scrape = backboneMetrics(backbone.store, backlog);
  }

  @Get('metrics')
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  metrics() {
    return this.scrape();
  }
}
