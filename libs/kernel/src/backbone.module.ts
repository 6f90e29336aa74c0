import { Global, Module, type DynamicModule } from '@nestjs/common';
import { jsonLogger, type Backbone, type Config, type Logger } from '#infra';
import { BACKBONE, CONFIG, LOGGER } from './tokens.js';

/** Hands the already-opened storage and log to Nest; main.ts owns their lifecycle. */
@Global()
@Module({})
export class BackboneModule {
  static register(backbone: Backbone, config: Config, logger: Logger = jsonLogger('faasline')): DynamicModule {
    return {
      module: BackboneModule,
      providers: [
        { provide: BACKBONE, useValue: backbone },
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [BACKBONE, CONFIG, LOGGER],
    };
  }
}
