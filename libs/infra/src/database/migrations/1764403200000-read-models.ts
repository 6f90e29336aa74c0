import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The read side (apps/projector keeps these up to date; the REST API reads them). Every row is a pure fold of
 * events, so a replay into fresh tables gives the same rows and the same checksum: no now(), no serials.
 * `seq` columns are the global position of the event that created the row, the stable sort key of a list.
 */
export class ReadModels1764403200000 implements MigrationInterface {
  name = 'ReadModels1764403200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE read_functions (
        name text PRIMARY KEY,
        owner text NOT NULL,
        repo text NOT NULL,
        function text NOT NULL,
        image text,
        sha text NOT NULL,
        branch text,
        status text NOT NULL,
        endpoint text,
        deployed_at timestamptz,
        build_id text,
        status_build_id text,
        delivery_id text,
        deploy_event_id text,
        reason text,
        updated_position bigint NOT NULL
      )`);
    await db.query(`CREATE INDEX read_functions_owner_repo ON read_functions (lower(owner), lower(repo), name)`);
    await db.query(`
      CREATE TABLE read_builds (
        id text PRIMARY KEY,
        function_name text NOT NULL,
        owner text NOT NULL,
        repo text NOT NULL,
        sha text NOT NULL,
        status text NOT NULL,
        image text,
        context_digest text NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        duration_ms integer,
        log_ref text,
        reason text,
        delivery_id text NOT NULL,
        reused_build_id text,
        superseded_by text,
        builder text,
        image_digest text,
        seq bigint NOT NULL
      )`);
    await db.query(`CREATE INDEX read_builds_function ON read_builds (function_name, seq DESC)`);
    await db.query(`
      CREATE TABLE read_pushes (
        delivery_id text PRIMARY KEY,
        owner text NOT NULL,
        repo text NOT NULL,
        sha text NOT NULL,
        ref text,
        branch text,
        received_at timestamptz,
        outcome text NOT NULL,
        reason text,
        seq bigint
      )`);
    await db.query(`CREATE INDEX read_pushes_repo ON read_pushes (lower(owner), lower(repo), seq DESC) WHERE seq IS NOT NULL`);
    await db.query(`
      CREATE TABLE read_audit (
        position bigint PRIMARY KEY,
        event_id text NOT NULL,
        type text NOT NULL,
        stream text NOT NULL,
        owner text,
        repo text,
        occurred_at timestamptz NOT NULL,
        actor text NOT NULL,
        correlation_id text NOT NULL,
        causation_id text NOT NULL
      )`);
    await db.query(`CREATE INDEX read_audit_repo ON read_audit (owner, repo, position)`);
    await db.query(`CREATE INDEX read_audit_type ON read_audit (type, position)`);
    await db.query(`CREATE INDEX read_audit_occurred ON read_audit (occurred_at, position)`);
    await db.query(`CREATE INDEX read_audit_event ON read_audit (event_id)`);
    await db.query(`
      CREATE TABLE read_model_replays (
        id text PRIMARY KEY,
        status text NOT NULL,
        actor text NOT NULL,
        events_total bigint NOT NULL DEFAULT 0,
        events_processed bigint NOT NULL DEFAULT 0,
        checksum_before text,
        checksum_after text,
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE read_model_replays, read_audit, read_pushes, read_builds, read_functions');
  }
}
