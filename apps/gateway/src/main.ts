import { configuredGateway } from '#gateway';
import { loadOrCreateSecret, openSandbox } from '#infra';
import { configFromEnvironment, markStarted } from '#kernel';

/**
 * The embedded OpenFaaS gateway on its own (GATEWAY_PORT, OPENFAAS_USER/OPENFAAS_PASSWORD, DATA_DIR, SANDBOX): an
 * api started with OPENFAAS_URL pointing here deploys to it like to any other gateway.
 */
const { config, logger } = configFromEnvironment('gateway');
const password = await loadOrCreateSecret(config.openfaasPassword, config.dataDir, 'openfaas-password');
// Every function here is a tenant's code: contained in the sandbox, or (SANDBOX=required) nothing starts.
const sandboxing = await openSandbox(config.sandbox).catch((error: Error) => {
  logger.error(error.message);
  process.exit(1);
});
// Alone, the gateway cannot tell a trusted owner's function from a stranger's, so it fails closed: without a working
// sandbox it runs functions only when the operator said SANDBOX=off.
if (!sandboxing.sandbox && config.sandbox.mode !== 'off') {
  logger.error(
    `no working sandbox (${sandboxing.reason}): the standalone gateway runs tenants' functions only sandboxed; SANDBOX=off runs them bare`,
  );
  process.exit(1);
}
const gateway = configuredGateway(config, password.value, logger, sandboxing.sandbox);
const url = await gateway.start(config.gatewayPort, config.host);
markStarted();

const shutdown = async () => {
  await gateway.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
logger.info(
  `OpenFaaS gateway listening on ${url} (user ${config.openfaasUser}, password ${password.path ? `stored in ${password.path}` : 'from OPENFAAS_PASSWORD'})`,
);
if (sandboxing.sandbox) logger.info(`sandbox: on (${sandboxing.sandbox.description}) for every function process`);
else logger.warn(`sandbox: off (SANDBOX=off): function processes run bare`);
