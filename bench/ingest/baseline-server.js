// The two baselines, each a bare Node HTTP server: `verify` only checks the signature (the ceiling); `insert`
// also does one Postgres INSERT per delivery before answering (the naive durable design, pg's default pool).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';
import { SECRET } from './payload.js';

const [mode, databaseUrl] = process.argv.slice(2);
const pool = mode === 'insert' ? new pg.Pool({ connectionString: databaseUrl }) : null;
if (pool)
  await pool.query(
    'CREATE TABLE IF NOT EXISTS deliveries (delivery_id text PRIMARY KEY, data jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())',
  );

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', async () => {
    const raw = Buffer.concat(chunks);
    const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
    const given = Buffer.from(String(request.headers['x-hub-signature-256'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      response.writeHead(401).end();
      return;
    }
    if (pool) {
      const push = JSON.parse(raw.toString('utf8'));
      const data = {
        owner: push.repository.owner.login,
        repo: push.repository.name,
        ref: push.ref,
        sha: push.after,
        cloneUrl: push.repository.clone_url,
      };
      await pool.query('INSERT INTO deliveries (delivery_id, data) VALUES ($1, $2)', [request.headers['x-github-delivery'], data]);
    }
    response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"recorded"}');
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
