import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Backbone, Config } from '#infra';
import { BackboneModule, ProjectorModule } from '#projector';
import { HealthController } from './health/health.controller.js';

/** The api process; with `withProjector` it also keeps the read models (one process on one machine). */
@Module({})
export class AppModule {
  static register(backbone: Backbone, config: Config, options: { withProjector: boolean }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BackboneModule.register(backbone, config),
        CqrsModule.forRoot({ rethrowUnhandled: true }),
        ...(options.withProjector ? [ProjectorModule] : []),
      ],
      controllers: [HealthController],
    };
  }
}
