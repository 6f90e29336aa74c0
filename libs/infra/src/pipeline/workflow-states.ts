import type { EntityManager } from 'typeorm';
import type { Event, RecordedEvent, Workflow } from '#domain';
import { readEventsByCorrelation } from '../event-store/postgres.adapter.js';

/** A workflow that folds stored events, one state per correlation id (a delivery), and the events it takes. */
export type CorrelatedWorkflow<I extends RecordedEvent<Event>, C, S> = Readonly<{
  /** Its key in `workflow_states`. */
  name: string;
  workflow: Workflow<I, C, S>;
  isInput: (event: RecordedEvent<Event>) => event is I;
}>;

/**
 * Folds a batch into the workflow's states, kept in `workflow_states` inside the subscriber's transaction so they
 * move with its checkpoint, and hands `react` each input with the state of its delivery just before it: one read
 * and one write per batch instead of reading every earlier event of the delivery again for each event.
 *
 * `ordered`: the log delivers events in global order (the embedded log). Kafka delivers each stream in order but
 * streams in any order, so there the events of the delivery between the state and the event are read from the
 * store and folded first, and an event that arrives after later ones is decided on the events before it, as it
 * would have been in order. A correlation without a row (its events came before the table) is folded from its
 * earlier events once.
 */
export async function foldWorkflowStates<I extends RecordedEvent<Event>, C, S>(
  tx: EntityManager,
  { name, workflow, isInput }: CorrelatedWorkflow<I, C, S>,
  batch: readonly RecordedEvent<Event>[],
  react: (event: I, state: S) => void,
  { ordered }: Readonly<{ ordered: boolean }>,
): Promise<void> {
  const events = batch.filter(isInput);
  if (events.length === 0) return;
  const ids = [...new Set(events.map((event) => event.metadata.correlationId))].sort();
  // Locked in one order: Kafka's consumers of one subscriber may fold the same delivery at once.
  const rows: { correlation_id: string; state: S; position: string }[] = await tx.query(
    `SELECT correlation_id, state, position FROM workflow_states WHERE workflow = $1 AND correlation_id = ANY($2::text[])
     ORDER BY correlation_id FOR UPDATE`,
    [name, ids],
  );
  const folded = new Map(rows.map((row) => [row.correlation_id, { state: row.state, position: Number(row.position) }]));
  const history = async (id: string, before: number, after = 0) => (await readEventsByCorrelation(tx, id, before, after)).filter(isInput);
  const fold = (inputs: readonly I[], state = workflow.initialState()) => inputs.reduce(workflow.evolve, state);
  for (const id of ids) {
    if (folded.has(id)) continue;
    const first = events.find((event) => event.metadata.correlationId === id)!.metadata.globalPosition;
    folded.set(id, { state: fold(await history(id, first)), position: first - 1 });
  }
  const changed = new Set<string>();
  for (const event of events) {
    const id = event.metadata.correlationId;
    const position = event.metadata.globalPosition;
    const current = folded.get(id)!;
    if (position <= current.position) {
      // Folded in already (it arrived after later events of its delivery): what it asks for was not asked yet.
      react(event, fold(await history(id, position)));
      continue;
    }
    const before = ordered ? current.state : fold(await history(id, position, current.position), current.state);
    react(event, before);
    const after = workflow.evolve(before, event);
    // An event that changes nothing (a build started, a status) is not written: folding it again later is harmless.
    if (after === current.state) continue;
    folded.set(id, { state: after, position });
    changed.add(id);
  }
  if (changed.size === 0) return;
  const saved = [...changed].map((id) => ({ id, ...folded.get(id)! }));
  await tx.query(
    `INSERT INTO workflow_states (workflow, correlation_id, state, position)
     SELECT $1, * FROM unnest($2::text[], $3::jsonb[], $4::bigint[])
     ON CONFLICT (workflow, correlation_id) DO UPDATE SET state = excluded.state, position = excluded.position
     WHERE workflow_states.position < excluded.position`,
    [name, saved.map((row) => row.id), saved.map((row) => JSON.stringify(row.state)), saved.map((row) => row.position)],
  );
}
