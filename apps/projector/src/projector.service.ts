import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EventLog, Subscription } from '#infra';
import { EVENT_LOG } from './tokens.js';
import { PROJECTIONS, type Projection } from './projection.js';

/** Keeps every registered read model up to date: one checkpointed subscription per projection. */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscriptions: Subscription[] = [];

  constructor(
    @Inject(EVENT_LOG) private readonly log: EventLog,
    @Inject(PROJECTIONS) private readonly projections: readonly Projection[],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriptions = await Promise.all(this.projections.map((projection) => this.log.subscribe(projection.name, projection.handle)));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.map((subscription) => subscription.close()));
    this.subscriptions = [];
  }

  subscriberNames(): readonly string[] {
    return this.projections.map((projection) => projection.name);
  }
}
