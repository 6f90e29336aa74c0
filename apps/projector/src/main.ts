import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Module } from '@nestjs/common';
import { BackboneModule, markStarted, openFromEnvironment, ProbesController } from '#kernel';
import { ProjectorModule } from '#projections';

/** The projector on its own: scale it out as a consumer group (Kafka) or run it beside the api. */
const { config, backbone, logger } = await openFromEnvironment('projector');

// HEALTH_PORT gives an orchestrator probes to act on; without it the projector serves no HTTP at all.
@Module({
  imports: [BackboneModule.register(backbone, config, logger), ProjectorModule],
  controllers: config.healthPort === null ? [] : [ProbesController],
})
class ProjectorAppModule {}

const options = { logger: ['error', 'warn'] as ('error' | 'warn')[] };
let app;
if (config.healthPort === null) app = await NestFactory.createApplicationContext(ProjectorAppModule, options);
else {
  const server = await NestFactory.create<NestFastifyApplication>(ProjectorAppModule, new FastifyAdapter(), options);
  await server.listen(config.healthPort, config.host);
  logger.info(`projector probes on http://${config.host}:${config.healthPort}/healthz and /readyz`);
  app = server;
}
const shutdown = async () => {
  await app.close();
  await backbone.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
markStarted();
logger.info(`projecting from the ${backbone.log.mode} log`);
