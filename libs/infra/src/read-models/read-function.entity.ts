import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A function as it is now: the version deployed (if any) and where its newest push stands. */
@Entity('read_functions')
export class ReadFunction {
  @PrimaryColumn('text') name!: string;
  @Column('text') owner!: string;
  @Column('text') repo!: string;
  /** The key under `functions:` in the stack file. */
  @Column('text') function!: string;
  @Column('text', { nullable: true }) image!: string | null;
  @Column('text') sha!: string;
  @Column('text', { nullable: true }) branch!: string | null;
  @Column('text') status!: 'building' | 'deploying' | 'ready' | 'failed' | 'removed';
  @Column('text', { nullable: true }) endpoint!: string | null;
  @Column('timestamptz', { name: 'deployed_at', nullable: true }) deployedAt!: Date | null;
  /** The build behind the deployed version. */
  @Column('text', { name: 'build_id', nullable: true }) buildId!: string | null;
  /** The build whose event set `status` last. */
  @Column('text', { name: 'status_build_id', nullable: true }) statusBuildId!: string | null;
  /** The push (webhook delivery) behind the deployed version. */
  @Column('text', { name: 'delivery_id', nullable: true }) deliveryId!: string | null;
  /** The FunctionDeployed event: where "why is it at this SHA" starts following causation. */
  @Column('text', { name: 'deploy_event_id', nullable: true }) deployEventId!: string | null;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('bigint', { name: 'updated_position' }) updatedPosition!: string;
}
