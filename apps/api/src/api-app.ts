import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { frameworkLogger, type Backbone, type Config, type Logger, type WebhookMetrics } from '#infra';
import { AppModule, type ApiOptions } from './app.module.js';
import { ADMIN_SCHEME } from './auth/api-admin.js';
import { namedSchemas } from './queries/openapi-schema.js';
import { INGRESS_COUNTERS } from './tokens.js';

/** GitHub's own cap on a delivery; anything bigger is answered 413 before it is read. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;
const WEBHOOK_PATH = '/webhooks/github';

/** The api as main.ts and the tests run it: Fastify, raw webhook bodies, every module wired. */
export async function createApi(backbone: Backbone, config: Config, logger: Logger, options: ApiOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(backbone, config, logger, options),
    new FastifyAdapter({ bodyLimit: MAX_WEBHOOK_BYTES }),
    { logger: frameworkLogger(logger), rawBody: true },
  );
  const fastify = app.getHttpAdapter().getInstance();
  const json = fastify.getDefaultJsonParser('error', 'error');
  const isWebhook = (url: string) => url.split('?')[0] === WEBHOOK_PATH;
  // Webhook bodies stay bytes until their signature is checked: a forged delivery is never parsed.
  app.useBodyParser(['application/json', 'application/x-www-form-urlencoded'], { bodyLimit: MAX_WEBHOOK_BYTES }, (request, body, done) =>
    isWebhook(request.url) ? done(null, null) : json(request as never, body.toString('utf8'), done),
  );
  const counters = app.get<WebhookMetrics>(INGRESS_COUNTERS);
  fastify.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 413 && isWebhook(request.url)) counters.reject('too_large');
  });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('faasline')
      .setDescription('OpenFaaS Cloud as an event-sourced system: functions, builds, pushes and the audit trail')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, ADMIN_SCHEME)
      .build(),
  );
  // Answers and bodies are documented from their zod schemas, whose named parts Nest does not know of.
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...namedSchemas() } };
  SwaggerModule.setup('api/docs', app, document);
  return app;
}
