import {
  acquireInstanceLock,
  AlreadyRunning,
  jsonLogger,
  ConfigError,
  loadConfig,
  openBackbone,
  type Backbone,
  type Config,
  type Logger,
} from '#infra';

/**
 * Reads the configuration and opens storage and log, or stops the process with one line naming the bad
 * variable. Shared by every entry point so that all of them fail the same way.
 */
export async function openFromEnvironment(component: string): Promise<{ config: Config; backbone: Backbone; logger: Logger }> {
  const { config, logger } = configFromEnvironment(component);
  // The api owns DATA_DIR (secrets, images, functions), and whoever runs the embedded database owns its cluster.
  if (component === 'api' || config.databaseUrl === null) {
    try {
      acquireInstanceLock(config.dataDir);
    } catch (error) {
      if (!(error instanceof AlreadyRunning)) throw error;
      console.error(`faasline: ${error.message}`);
      process.exit(1);
    }
  }
  const backbone = await openBackbone(config, logger, { clientId: `faasline-${component}` });
  return { config, backbone, logger };
}

/** The configuration alone, for a process that needs no storage (the standalone gateway); fails like openFromEnvironment. */
export function configFromEnvironment(component: string): { config: Config; logger: Logger } {
  const logger = jsonLogger(component);
  reportStartFailuresInOneLine();
  try {
    return { config: loadConfig(), logger };
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`faasline: configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

let started = false;

/** Called once the process serves: from then on a crash keeps its stack. */
export function markStarted(): void {
  started = true;
}

/**
 * A start that fails (a database that will not come up, a port in use) ends with one line saying why, never
 * Node's bare `triggerUncaughtException` dump.
 */
function reportStartFailuresInOneLine(): void {
  if (process.listenerCount('uncaughtException') > 0) return;
  process.on('uncaughtException', (error: unknown) => {
    const message =
      error instanceof Error ? (error instanceof ConfigError ? `configuration error: ${error.message}` : error.message) : String(error);
    console.error(`faasline: ${started ? '' : 'cannot start: '}${message.replace(/\s*\n\s*/g, ' ')}`);
    if (started && error instanceof Error && error.stack) console.error(error.stack);
    process.exit(1);
  });
}
