import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { openFromEnvironment } from '#projector';
import { AppModule } from './app.module.js';

/**
 * `npm start`: api and projector in one process. With nothing configured that means an embedded PostgreSQL
 * under DATA_DIR and the events table as the log; DATABASE_URL and KAFKA_BROKERS switch to the real services.
 */
const { config, backbone, logger } = await openFromEnvironment('api');
const withProjector = process.env.FAASLINE_PROJECTOR !== 'separate';

const app = await NestFactory.create<NestFastifyApplication>(
  AppModule.register(backbone, config, { withProjector }),
  new FastifyAdapter({ bodyLimit: 25 * 1024 * 1024 }),
  { logger: ['error', 'warn'] },
);
await backbone.log.start();
await app.listen(config.port, config.host);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: stopping`);
  await app.close();
  await backbone.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

const address = app.getHttpServer().address();
const port = typeof address === 'object' && address ? address.port : config.port;
logger.info(`faasline api listening on http://${config.host}:${port}`);
logger.info(`storage: ${backbone.storage === 'embedded' ? `embedded PostgreSQL in ${config.dataDir}` : 'PostgreSQL at DATABASE_URL'}`);
logger.info(`event log: ${backbone.log.mode === 'kafka' ? `Kafka topic ${config.kafka!.topic}` : 'embedded (events table)'}`);
logger.info(`projector: ${withProjector ? 'in this process' : 'separate process'}`);
