/** How far the log and its subscribers are: what `/metrics` reports of the backbone at each scrape. */
export interface Backlog {
  /** Events committed but not yet acknowledged by Kafka. */
  outboxPending(): Promise<number>;
  /** Each subscriber's checkpoint: the global position it has applied up to. */
  checkpoints(): Promise<readonly Readonly<{ subscriber: string; position: number }>[]>;
  /** Seconds since the oldest event `subscriber` has not applied yet occurred; 0 when it is current. */
  oldestUnappliedAgeSeconds(subscriber: string): Promise<number>;
}
