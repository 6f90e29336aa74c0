import type { DataSource } from 'typeorm';
import type { Config } from './config/config.js';
import { openDataSource, type DataSourceParts } from './database/data-source.js';
import { startEmbeddedPostgres } from './database/embedded-postgres.js';
import { AppendSignal } from './event-log/append-signal.js';
import { EmbeddedEventLog } from './event-log/embedded.adapter.js';
import type { EventLog } from './event-log/event-log.port.js';
import { KafkaEventLog } from './event-log/kafka.adapter.js';
import { PostgresEventStore } from './event-store/postgres.adapter.js';
import type { Logger } from './logger.js';
import { countDeploys } from './metrics/metrics.js';

/** Storage and log of one process, chosen by configuration: the same code above the ports in both modes. */
export type Backbone = Readonly<{
  db: DataSource;
  databaseUrl: string;
  store: PostgresEventStore;
  log: EventLog;
  storage: 'embedded' | 'postgres';
  /** Embedded mode: where the cluster and its socket live. */
  embeddedPostgres: Readonly<{ clusterDir: string; socketDir: string }> | null;
  /** 'ok' or why not, per dependency. */
  readiness: () => Promise<Readonly<Record<'database' | 'log', string>>>;
  close: () => Promise<void>;
}>;

export async function openBackbone(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'kafka'>,
  logger: Logger,
  parts: DataSourceParts & { clientId?: string } = {},
): Promise<Backbone> {
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres(config.dataDir);
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  try {
    if (embedded) {
      // Migrations as the superuser, then the runtime role gets what the tables they made need.
      await (await openDataSource(embedded.adminUrl, { ...parts, poolSize: 2 })).destroy();
      await embedded.grantRuntimeRole();
    }
    const db = await openDataSource(databaseUrl, parts);
    const store = new PostgresEventStore(db, { outbox: config.kafka !== null });
    const signal = new AppendSignal(databaseUrl, store, logger);
    const stopCounting = countDeploys(store);
    await signal.start();
    const log: EventLog = config.kafka
      ? new KafkaEventLog(db, { ...config.kafka, clientId: parts.clientId ?? 'faasline' }, signal, logger)
      : new EmbeddedEventLog(db, signal, logger);
    return {
      db,
      databaseUrl,
      store,
      log,
      storage: embedded ? 'embedded' : 'postgres',
      embeddedPostgres: embedded ? { clusterDir: embedded.clusterDir, socketDir: embedded.socketDir } : null,
      readiness: async () => ({
        database: await probe(() => db.query('SELECT 1')),
        log: await probe(() => log.checkReachable()),
      }),
      close: async () => {
        await log.close();
        stopCounting();
        await signal.close();
        await db.destroy();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

async function probe(check: () => Promise<unknown>): Promise<string> {
  try {
    await check();
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}
