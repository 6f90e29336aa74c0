import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One push delivery and how its pipeline ended (from the `stack-deploy` commit status, or why it was ignored). */
@Entity('read_pushes')
export class ReadPush {
  @PrimaryColumn('text', { name: 'delivery_id' }) deliveryId!: string;
  @Column('text') owner!: string;
  @Column('text') repo!: string;
  @Column('text') sha!: string;
  @Column('text', { nullable: true }) ref!: string | null;
  @Column('text', { nullable: true }) branch!: string | null;
  @Column('timestamptz', { name: 'received_at', nullable: true }) receivedAt!: Date | null;
  @Column('text') outcome!: 'pending' | 'deployed' | 'failed' | 'ignored';
  @Column('text', { nullable: true }) reason!: string | null;
  /** Global position of the push's own event; null until it is projected (a status may arrive first from Kafka). */
  @Column('bigint', { nullable: true }) seq!: string | null;
  /** The repository was private at this push; null until known (an ignored push does not say). */
  @Column('boolean', { nullable: true }) private!: boolean | null;
}
