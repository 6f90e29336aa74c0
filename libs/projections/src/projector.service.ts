import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Backbone, Subscription } from '#infra';
import { BACKBONE } from '#kernel';
import { PROJECTIONS, type Projection } from './projection.js';

/** Keeps every registered read model up to date: one checkpointed subscription per projection. */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscriptions: Subscription[] = [];

  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(PROJECTIONS) private readonly projections: readonly Projection[],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscriptions = await Promise.all(
      this.projections.map((projection) => this.backbone.log.subscribe(projection.name, projection.handle, projection.options)),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.map((subscription) => subscription.close()));
    this.subscriptions = [];
  }

  subscriberNames(): readonly string[] {
    return this.projections.map((projection) => projection.name);
  }
}
