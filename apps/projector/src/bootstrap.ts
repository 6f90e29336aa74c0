import { consoleLogger, ConfigError, loadConfig, openBackbone, type Backbone, type Config, type Logger } from '#infra';

/**
 * Reads the configuration and opens storage and log, or stops the process with one line naming the bad
 * variable. Shared by every entry point so that all of them fail the same way.
 */
export async function openFromEnvironment(component: string): Promise<{ config: Config; backbone: Backbone; logger: Logger }> {
  const logger = consoleLogger(component);
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`faasline: configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const backbone = await openBackbone(config, logger, { clientId: `faasline-${component}` });
  return { config, backbone, logger };
}
