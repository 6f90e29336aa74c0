import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One run of `POST /api/v1/admin/replay`. */
@Entity('read_model_replays')
export class ReadModelReplay {
  @PrimaryColumn('text') id!: string;
  @Column('text') status!: 'running' | 'done' | 'failed';
  @Column('text') actor!: string;
  @Column('bigint', { name: 'events_total' }) eventsTotal!: string;
  @Column('bigint', { name: 'events_processed' }) eventsProcessed!: string;
  @Column('text', { name: 'checksum_before', nullable: true }) checksumBefore!: string | null;
  @Column('text', { name: 'checksum_after', nullable: true }) checksumAfter!: string | null;
  @Column('text', { nullable: true }) error!: string | null;
  @Column('timestamptz', { name: 'started_at' }) startedAt!: Date;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
}
