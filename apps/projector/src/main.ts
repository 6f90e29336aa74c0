import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { BackboneModule } from './backbone.module.js';
import { ProjectorModule } from './projector.module.js';
import { markStarted, openFromEnvironment } from './bootstrap.js';

/** The projector on its own: scale it out as a consumer group (Kafka) or run it beside the api. */
const { config, backbone, logger } = await openFromEnvironment('projector');

@Module({ imports: [BackboneModule.register(backbone, config, logger), ProjectorModule] })
class ProjectorAppModule {}

const app = await NestFactory.createApplicationContext(ProjectorAppModule, { logger: ['error', 'warn'] });
const shutdown = async () => {
  await app.close();
  await backbone.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
markStarted();
logger.info(`projecting from the ${backbone.log.mode} log`);
