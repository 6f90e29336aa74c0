import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One line of the audit trail per event; the event's data stays in the event store and is read through upcasters. */
@Entity('read_audit')
export class ReadAuditEntry {
  @PrimaryColumn('bigint') position!: string;
  @Column('text', { name: 'event_id' }) eventId!: string;
  @Column('text') type!: string;
  @Column('text') stream!: string;
  /** Lower-cased, so that filters match GitHub's case-insensitive logins. */
  @Column('text', { nullable: true }) owner!: string | null;
  @Column('text', { nullable: true }) repo!: string | null;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt!: Date;
  @Column('text') actor!: string;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('text', { name: 'causation_id' }) causationId!: string;
}
