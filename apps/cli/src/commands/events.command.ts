import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';

type AuditEvent = { position: number; occurredAt: string; type: string; stream: string; actor: string; correlationId: string };
type AuditPage = { items: AuditEvent[]; nextCursor: string | null };
type EventsOptions = {
  api?: string;
  type?: string;
  owner?: string;
  repo?: string;
  actor?: string;
  delivery?: string;
  since?: string;
  until?: string;
  follow?: boolean;
  json?: boolean;
};

/** The audit route's cursor is the position of the last event seen; following resumes from there. */
const cursorAfter = (position: number) => Buffer.from(JSON.stringify([position])).toString('base64url');

/** `faasline events`: the event log, oldest first, filtered; `--follow` keeps printing new events as they are projected. */
export function registerEventsCommand(program: Command, cli: CliContext): void {
  program
    .command('events')
    .description('the event log (audit trail), oldest first; --follow keeps tailing it')
    .option('--type <type>', 'only events of this type (e.g. BuildFailed)')
    .option('--owner <owner>', 'only events of this owner')
    .option('--repo <repo>', 'only events of this repository')
    .option('--actor <actor>', 'only events caused by this actor')
    .option('--delivery <id>', 'only the events one webhook delivery caused (its X-GitHub-Delivery)')
    .option('--since <iso>', 'only events at or after this instant')
    .option('--until <iso>', 'only events before this instant')
    .option('-f, --follow', 'keep printing new events as they are recorded')
    .option('--json', 'one JSON object per line, the audit route’s shape')
    .option('--api <url>', 'the faasline API (default: FAASLINE_API, else http://127.0.0.1:$PORT)')
    .action(async (options: EventsOptions) => {
      const api = cli.apiUrl(options.api);
      const token = cli.adminToken();
      const filter = new URLSearchParams();
      for (const name of ['type', 'owner', 'repo', 'actor', 'since', 'until'] as const)
        if (options[name] !== undefined) filter.set(name, options[name]);
      if (options.delivery !== undefined) filter.set('correlationId', options.delivery);
      filter.set('limit', '500');
      let cursor: string | null = null;
      let stop = false;
      process.once('SIGINT', () => (stop = true));
      while (!stop) {
        const query = new URLSearchParams(filter);
        if (cursor) query.set('cursor', cursor);
        const page = await cli.call<AuditPage>('GET', `${api}/api/v1/audit?${query}`, { token });
        for (const event of page.items) {
          if (options.json) console.log(JSON.stringify(event));
          else
            console.log(
              `${String(event.position).padStart(8)} ${cli.colour.dim(event.occurredAt)} ${event.type.padEnd(20)} ${event.stream}  ${event.actor}  delivery ${event.correlationId}`,
            );
          cursor = cursorAfter(event.position);
        }
        if (page.nextCursor) {
          cursor = page.nextCursor;
          continue;
        }
        if (!options.follow) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });
}
