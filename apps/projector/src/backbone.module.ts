import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Backbone, Config } from '#infra';
import { BACKBONE, CONFIG, DATA_SOURCE, EVENT_LOG, EVENT_STORE } from './tokens.js';

/** Hands the already-opened storage and log to Nest; main.ts owns their lifecycle. */
@Global()
@Module({})
export class BackboneModule {
  static register(backbone: Backbone, config: Config): DynamicModule {
    return {
      module: BackboneModule,
      providers: [
        { provide: BACKBONE, useValue: backbone },
        { provide: CONFIG, useValue: config },
        { provide: EVENT_LOG, useValue: backbone.log },
        { provide: EVENT_STORE, useValue: backbone.store },
        { provide: DATA_SOURCE, useValue: backbone.db },
      ],
      exports: [BACKBONE, CONFIG, EVENT_LOG, EVENT_STORE, DATA_SOURCE],
    };
  }
}
