import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Backbone, Config } from '#infra';
import { BACKBONE, CONFIG } from './tokens.js';

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
      ],
      exports: [BACKBONE, CONFIG],
    };
  }
}
