// The load generator, in its own process so it does not share an event loop with the server it measures.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { nextPush, numberPushesFrom } from './payload.js';

const [url, seconds, connections, firstPush] = process.argv.slice(2);
numberPushesFrom(Number(firstPush ?? 0));
const result = await autocannon({
  url: `${url}/webhooks/github`,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push' },
      setupRequest: (request) => {
        const { body, signature } = nextPush();
        return { ...request, body, headers: { ...request.headers, 'x-hub-signature-256': signature, 'x-github-delivery': randomUUID() } };
      },
    },
  ],
});
console.log(
  JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
  }),
);
