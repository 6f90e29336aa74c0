import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One build of one function for one push: started, then succeeded or failed; or reused; maybe superseded. */
@Entity('read_builds')
export class ReadBuild {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'function_name' }) functionName!: string;
  @Column('text') owner!: string;
  @Column('text') repo!: string;
  @Column('text') sha!: string;
  @Column('text') status!: 'queued' | 'running' | 'succeeded' | 'failed' | 'reused' | 'superseded';
  @Column('text', { nullable: true }) image!: string | null;
  @Column('text', { name: 'context_digest' }) contextDigest!: string;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
  @Column('integer', { name: 'duration_ms', nullable: true }) durationMs!: number | null;
  /** Where the whole log is (`build_logs.build_id`); the events carry only its tail. */
  @Column('text', { name: 'log_ref', nullable: true }) logRef!: string | null;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('text', { name: 'delivery_id' }) deliveryId!: string;
  @Column('text', { name: 'reused_build_id', nullable: true }) reusedBuildId!: string | null;
  @Column('text', { name: 'superseded_by', nullable: true }) supersededBy!: string | null;
  @Column('text', { nullable: true }) builder!: 'buildkit' | 'local' | null;
  @Column('text', { name: 'image_digest', nullable: true }) imageDigest!: string | null;
  /** BUILD_PLATFORMS the image was built for, comma-separated; null: the builder's own. */
  @Column('text', { nullable: true }) platforms!: string | null;
  /** Global position of the build's first event: newest-first order and the list cursor. */
  @Column('bigint') seq!: string;
}
