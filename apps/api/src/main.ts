import 'reflect-metadata';
import { join } from 'node:path';
import { configuredGateway } from '#gateway';
import { clientSecretOf, loadOrCreateSecret, openSandbox, sealKeyFromPrivate } from '#infra';
import { markStarted, openFromEnvironment } from '#kernel';
import { createApi } from './api-app.js';

/**
 * `npm start`: api and projector in one process. With nothing configured that means an embedded PostgreSQL
 * under DATA_DIR and the events table as the log; DATABASE_URL and KAFKA_BROKERS switch to the real services.
 */
const opened = await openFromEnvironment('api');
const { backbone, logger } = opened;
const withProjector = process.env.FAASLINE_PROJECTOR !== 'separate';
const withPipeline = process.env.FAASLINE_PIPELINE !== 'separate';

// A GITHUB_CLIENT_SECRET_FILE that cannot be read stops the start here, in one line, before anything serves.
if (opened.config.signIn.github) {
  try {
    clientSecretOf(opened.config.signIn.github);
  } catch (error) {
    console.error(`faasline: configuration error: ${(error as Error).message}`);
    await backbone.close();
    process.exit(1);
  }
}

const webhookSecret = await loadOrCreateSecret(opened.config.githubWebhookSecret, opened.config.dataDir, 'github-webhook-secret');
const adminToken = await loadOrCreateSecret(opened.config.adminToken, opened.config.dataDir, 'admin-token');
const gatewayPassword = await loadOrCreateSecret(opened.config.openfaasPassword, opened.config.dataDir, 'openfaas-password');
const linksSecret = await loadOrCreateSecret(opened.config.links.secret, opened.config.dataDir, 'links-secret');
// An X25519 private key is any 32 random bytes: generated like the other secrets, its public half derived.
const sealPrivateKey = await loadOrCreateSecret(process.env.SEAL_PRIVATE_KEY || null, opened.config.dataDir, 'seal-private-key');
const sealKey = await sealKeyFromPrivate(sealPrivateKey.value).catch(async (error: Error) => {
  logger.error(sealPrivateKey.path ? `${sealPrivateKey.path}: ${error.message}` : error.message);
  await backbone.close();
  process.exit(1);
});

// Tenants' code runs here when functions run on the embedded gateway or builds on the local builder: contained in
// the sandbox, or (fail closed) only trusted owners' code runs at all.
const runsTenantCode = !opened.config.openfaasUrl || !opened.config.buildkitAddr;
const sandboxing = runsTenantCode
  ? await openSandbox(opened.config.sandbox).catch(async (error: Error) => {
      // SANDBOX=required without a working sandbox: one line saying why, nothing started.
      logger.error(error.message);
      await backbone.close();
      process.exit(1);
    })
  : null;
const sandbox = sandboxing?.sandbox ?? null;
const trustedOwnersOnly = sandboxing !== null && sandbox === null;

// No OPENFAAS_URL: the embedded gateway runs the functions here, and the deployer talks to it like to any other.
const gateway = opened.config.openfaasUrl ? null : configuredGateway(opened.config, gatewayPassword.value, logger, sandbox);
const gatewayUrl = gateway ? await gateway.start(opened.config.gatewayPort, opened.config.host) : opened.config.openfaasUrl!;
const config = {
  ...opened.config,
  openfaasUrl: gatewayUrl,
  // GATEWAY_PORT=0 picks a free port: the default public URL follows the port actually bound.
  gatewayPublicUrl:
    gateway && opened.config.gatewayPort === 0 && !process.env.GATEWAY_PUBLIC_URL ? gatewayUrl : opened.config.gatewayPublicUrl,
};
const app = await createApi(backbone, config, logger, {
  withProjector,
  withPipeline,
  webhookSecret: webhookSecret.value,
  adminToken: adminToken.value,
  gatewayPassword: gatewayPassword.value,
  linksSecret: linksSecret.value,
  sealPrivateKey: sealPrivateKey.value,
  sandbox,
  trustedOwnersOnly,
});
await backbone.log.start();
await app.listen(config.port, config.host);
markStarted();

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: stopping`);
  await app.close();
  await gateway?.stop();
  await backbone.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

const address = app.getHttpServer().address();
const port = typeof address === 'object' && address ? address.port : config.port;
logger.info(`faasline api listening on http://${config.host}:${port}`);
// PORT=0 picks a free port; the default public URL then has to follow the port actually bound.
const publicUrl = config.port === 0 && !process.env.PUBLIC_URL ? `http://${config.host}:${port}` : config.publicUrl;
logger.info(`webhook URL: ${publicUrl}/webhooks/github`);
logger.info(`webhook secret: ${webhookSecret.path ? `stored in ${webhookSecret.path}` : 'from GITHUB_WEBHOOK_SECRET'}`);
logger.info(`admin token: ${adminToken.path ? `stored in ${adminToken.path}` : 'from ADMIN_TOKEN'}`);
logger.info(`link key: ${linksSecret.path ? `stored in ${linksSecret.path}` : 'from LINKS_SECRET'}`);
logger.info(`sealing key ${sealKey.keyId}: ${sealPrivateKey.path ? `stored in ${sealPrivateKey.path}` : 'from SEAL_PRIVATE_KEY'}`);
logger.info(
  `OpenFaaS gateway: ${gateway ? `embedded at ${gatewayUrl} (user ${config.openfaasUser}, password ${gatewayPassword.path ? `stored in ${gatewayPassword.path}` : 'from OPENFAAS_PASSWORD'})` : gatewayUrl}`,
);
logger.info(
  {
    github: `sign-in: GitHub OAuth at ${config.signIn.github?.webUrl} (client ${config.signIn.github?.clientId}, callback ${publicUrl}/auth/callback)`,
    local:
      'sign-in: off (no GITHUB_CLIENT_ID); this server answers on loopback only, so a browser on this machine gets an admin session at /auth/login',
    off: 'sign-in: off (no GITHUB_CLIENT_ID): API tokens only',
  }[config.signIn.mode],
);
logger.info(`functions answer at ${config.gatewayPublicUrl}/function/<name>`);
logger.info(`data folder: ${config.dataDir}`);
logger.info(
  `storage: ${backbone.embeddedPostgres ? `embedded PostgreSQL in ${backbone.embeddedPostgres.clusterDir} (unix socket only, role faasline, passwords in ${join(config.dataDir, 'secrets')})` : 'PostgreSQL at DATABASE_URL'}`,
);
logger.info(`event log: ${backbone.log.mode === 'kafka' ? `Kafka topic ${config.kafka!.topic}` : 'embedded (events table)'}`);
logger.info(`projector: ${withProjector ? 'in this process' : 'separate process'}`);
logger.info(`pipeline: ${withPipeline ? 'in this process' : 'separate process'}`);
if (sandbox) logger.info(`sandbox: on (${sandbox.description}) for every function process and local build`);
else if (sandboxing)
  logger.warn(`sandbox: off (${sandboxing.reason}): only owners in CUSTOMERS and local faasline push build and run here`);
if (config.customers === null && config.customersFile === null && !trustedOwnersOnly)
  logger.warn('CUSTOMERS and CUSTOMERS_FILE are unset: pushes from every owner build');
