// A checkpointed subscriber in its own process, so tests can SIGKILL it mid-batch. Runs the built code
// (npm test builds first). Each applied event becomes one row of `applied`, inside the subscriber's
// transaction; it announces "mid-batch" halfway through each batch, before the batch commits.
import { openBackbone, silentLogger } from '../../../../dist/libs/infra/index.js';

const subscriber = process.env.SUBSCRIBER;
const kafka = process.env.KAFKA_TOPIC
  ? { brokers: process.env.KAFKA_BROKERS.split(','), topic: process.env.KAFKA_TOPIC, partitions: 6, replicationFactor: 1 }
  : null;
const backbone = await openBackbone({ databaseUrl: process.env.DATABASE_URL, dataDir: '/nonexistent', kafka }, silentLogger, {
  clientId: 'subscriber-worker',
});
await backbone.log.subscribe(
  subscriber,
  async (events, tx) => {
    for (const [index, event] of events.entries()) {
      await tx.query(`INSERT INTO applied (subscriber, event_id, stream_id, version, position) VALUES ($1, $2, $3, $4, $5)`, [
        subscriber,
        event.metadata.eventId,
        event.metadata.streamId,
        event.metadata.streamVersion,
        event.metadata.globalPosition,
      ]);
      if (index === Math.floor(events.length / 2)) process.stdout.write('mid-batch\n');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  },
  { batchSize: 50 },
);
process.stdout.write('subscribed\n');
