import type { DataSource } from 'typeorm';

/** Advisory lock class held while a new function of an owner is counted, deployed and recorded (object id: the owner's hash). */
const OWNER_QUOTA_LOCK = 716674105;

/** What the deploy step needs to hold an owner to MAX_FUNCTIONS_PER_OWNER: an exact count, and a lock to keep it exact. */
export type OwnerFunctions = Readonly<{
  /**
   * Waits for, then holds, the owner's lock until the returned release is called: deploys of new functions of one
   * owner take turns, anywhere, so two cannot both count the same last free place. Lost with its connection.
   */
  lock(owner: string): Promise<() => Promise<void>>;
  /** Functions the owner runs now, other than `exceptStreamId`: those whose last deploy or removal in the log is a deploy. */
  deployedCount(owner: string, exceptStreamId: string): Promise<number>;
}>;

/** Read from the event store itself, not a read model: a deploy recorded a moment ago must already count. */
export function postgresOwnerFunctions(db: DataSource): OwnerFunctions {
  return {
    lock: async (owner) => {
      const session = db.createQueryRunner();
      await session.connect();
      const key = owner.toLowerCase();
      try {
        await session.query('SELECT pg_advisory_lock($1, hashtext($2))', [OWNER_QUOTA_LOCK, key]);
      } catch (error) {
        await session.release();
        throw error;
      }
      return async () => {
        // release() returns the session to the pool, so the session lock must be dropped explicitly.
        await session.query('SELECT pg_advisory_unlock($1, hashtext($2))', [OWNER_QUOTA_LOCK, key]).catch(() => undefined);
        await session.release();
      };
    },
    deployedCount: async (owner, exceptStreamId) => {
      const [{ count }] = await db.query(
        `SELECT count(*)::int AS count FROM (
           SELECT DISTINCT ON (stream_id) stream_id, type FROM events
           WHERE type IN ('FunctionDeployed', 'FunctionRemoved') AND lower(data->>'owner') = lower($1)
           ORDER BY stream_id, global_position DESC) latest
         WHERE type = 'FunctionDeployed' AND stream_id <> $2`,
        [owner, exceptStreamId],
      );
      return count;
    },
  };
}
