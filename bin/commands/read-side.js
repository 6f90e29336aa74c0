// `faasline replay` and `faasline events`: the read side from a terminal, through the admin API.
import { URLSearchParams } from 'node:url';
import { parseArgs } from 'node:util';

/** Where the api is and the admin token, shared by both commands; `secret` reads DATA_DIR/secrets when unset. */
function connection(values, { secret, apiUrl }) {
  return { api: apiUrl(values.api), headers: { authorization: `Bearer ${secret('ADMIN_TOKEN', 'admin-token')}` } };
}

async function call(fail, url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    fail(`cannot reach faasline at ${new URL(url).origin} (${error.cause?.code ?? error.message}): is it running? (npm start)`);
  }
  if (!response.ok) fail(`${init?.method ?? 'GET'} ${new URL(url).pathname} answered ${response.status}: ${(await response.text()).trim()}`);
  return response.json();
}

const count = (n) => n.toLocaleString('en-US');

/** `faasline replay`: rebuild every read model beside the live ones, with a progress bar, rate and ETA. */
export async function replay(args, cli) {
  const { fail } = cli;
  const { values } = parseArgs({ args, options: { api: { type: 'string' } } });
  const { api, headers } = connection(values, cli);
  const { id } = await call(fail, `${api}/api/v1/admin/replay`, { method: 'POST', headers });
  console.log(`replay ${id} started`);
  const started = Date.now();
  const tty = process.stdout.isTTY;
  let lastLine = 0;
  for (;;) {
    const report = await call(fail, `${api}/api/v1/admin/replay/${id}`, { headers });
    const seconds = (Date.now() - started) / 1000;
    const rate = report.eventsProcessed / Math.max(seconds, 0.001);
    if (report.status === 'running') {
      const total = Math.max(report.eventsTotal, report.eventsProcessed, 1);
      const share = Math.min(1, report.eventsProcessed / total);
      const eta = rate > 0 ? Math.ceil((total - report.eventsProcessed) / rate) : null;
      const bar = `${'#'.repeat(Math.round(share * 30))}${'.'.repeat(30 - Math.round(share * 30))}`;
      const line = `[${bar}] ${(share * 100).toFixed(0).padStart(3)}% ${count(report.eventsProcessed)}/${count(total)} events  ${count(Math.round(rate))} events/s  ETA ${eta === null ? '?' : `${eta} s`}`;
      if (tty) process.stdout.write(`\r${line}`);
      else if (Date.now() - lastLine >= 1000) {
        console.log(line);
        lastLine = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    if (tty) process.stdout.write('\n');
    if (report.status === 'failed') fail(`replay ${id} failed: ${report.error}`);
    console.log(`done: ${count(report.eventsProcessed)} events in ${seconds.toFixed(1)} s (${count(Math.round(rate))} events/s)`);
    console.log(`checksum before ${report.checksumBefore}, after ${report.checksumAfter}: ${report.checksumBefore === report.checksumAfter ? 'equal' : 'different (expected only after a projection or event-shape change)'}`);
    return 0;
  }
}

/** The audit route's cursor is the position of the last event seen; following resumes from there. */
const cursorAfter = (position) => Buffer.from(JSON.stringify([position])).toString('base64url');

/** `faasline events`: the event log, oldest first, filtered; `--follow` keeps printing new events as they are projected. */
export async function events(args, cli) {
  const { fail } = cli;
  const { values } = parseArgs({
    args,
    options: {
      api: { type: 'string' },
      type: { type: 'string' },
      owner: { type: 'string' },
      repo: { type: 'string' },
      actor: { type: 'string' },
      delivery: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      follow: { type: 'boolean', short: 'f', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const { api, headers } = connection(values, cli);
  const filter = new URLSearchParams();
  for (const name of ['type', 'owner', 'repo', 'actor', 'since', 'until']) if (values[name] !== undefined) filter.set(name, values[name]);
  if (values.delivery !== undefined) filter.set('correlationId', values.delivery);
  filter.set('limit', '500');
  let cursor = null;
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  while (!stop) {
    const query = new URLSearchParams(filter);
    if (cursor) query.set('cursor', cursor);
    const page = await call(fail, `${api}/api/v1/audit?${query}`, { headers });
    for (const event of page.items) {
      if (values.json) console.log(JSON.stringify(event));
      else console.log(`${String(event.position).padStart(8)} ${event.occurredAt} ${event.type.padEnd(20)} ${event.stream}  ${event.actor}  delivery ${event.correlationId}`);
      cursor = cursorAfter(event.position);
    }
    if (page.nextCursor) {
      cursor = page.nextCursor;
      continue;
    }
    if (!values.follow) return 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return 0;
}
