// A synthetic but well-formed event history for replay tests and benches: pushes of a few repositories, each
// fetched, built (some reused, some failed), deployed and reported, written straight into the events table in
// position order the way the store would have committed them. Old BuildSucceeded events are stored at schema
// version 1, so a replay goes through the upcasters.
import { createHash } from 'node:crypto';
import pg from 'pg';

const uuid = (text) => {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};
const sha = (text) => createHash('sha1').update(text).digest('hex');

/** Yields events until `count` are produced: { streamId, type, schemaVersion, data, correlationId, causationId, actor }. */
export function* syntheticEvents(count, { repositories = 50, functionsPerRepo = 3, seed = 'faasline', streamVersions = new Map() } = {}) {
  let produced = 0;
  const previousBuild = new Map();
  for (let push = 0; produced < count; push++) {
    const owner = `owner${push % 17}`;
    const repo = `repo${push % repositories}`;
    const deliveryId = uuid(`${seed}:delivery:${push}`);
    const commit = sha(`${seed}:${push}`);
    const out = [];
    const emit = (streamId, type, data, causationId, schemaVersion = 1, actor = 'system:pipeline') => {
      const version = (streamVersions.get(streamId) ?? 0) + 1;
      streamVersions.set(streamId, version);
      const eventId = uuid(`${seed}:${streamId}:${version}`);
      out.push({ eventId, streamId, version, type, schemaVersion, data, correlationId: deliveryId, causationId, actor });
      return eventId;
    };
    const repoStream = `repository-${owner}/${repo}`;
    const commitStream = `commit-${owner}/${repo}@${commit}`;
    /** A commit status of this push as the pipeline records it (never sent: no GitHub here). */
    const reportStatus = (context, state, description, causationId) =>
      emit(
        commitStream,
        'CommitStatusReported',
        { owner, repo, sha: commit, context, state, description, targetUrl: null, delivered: false },
        causationId,
      );
    if (push % 23 === 22) {
      emit(
        repoStream,
        'PushIgnored',
        { deliveryId, owner, repo, ref: 'refs/heads/dev', sha: commit, reason: 'skipping build for: refs/heads/dev' },
        deliveryId,
        1,
        `github:${owner}`,
      );
    } else {
      const received = emit(
        repoStream,
        'PushReceived',
        {
          deliveryId,
          owner,
          ownerId: push % 17,
          repo,
          repositoryId: push % repositories,
          private: false,
          ref: 'refs/heads/main',
          branch: 'main',
          before: '0'.repeat(40),
          sha: commit,
          cloneUrl: `https://github.com/${owner}/${repo}.git`,
          installationId: null,
          pusher: owner,
          receivedAt: new Date(Date.UTC(2026, 0, 1) + push * 1000).toISOString(),
        },
        deliveryId,
        1,
        `github:${owner}`,
      );
      const names = Array.from({ length: functionsPerRepo }, (_, i) => `${owner}-${repo}-fn${i}`);
      const fetched = emit(
        repoStream,
        'SourceFetched',
        {
          deliveryId,
          owner,
          repo,
          branch: 'main',
          sha: commit,
          stackFile: 'stack.yml',
          functions: names.map((name, i) => ({
            function: `${repo}-fn${i}`,
            name,
            lang: 'node20',
            handler: `./fn${i}`,
            image: `local/${owner}/${name}:latest-main-${commit.slice(0, 7)}`,
            fprocess: null,
            contextDigest: `sha256:${sha(`${name}:${push % 5}`)}`,
            contextBytes: 1024,
            buildArgs: {},
            environment: {},
            labels: {},
            annotations: {},
            secrets: [],
            limits: {},
            requests: {},
            readOnlyRootFilesystem: true,
            constraints: [],
          })),
          rejected: [],
        },
        received,
      );
      reportStatus('stack-deploy', 'pending', `building ${names.length} function(s)`, fetched);
      let failed = 0;
      names.forEach((name, i) => {
        const stream = `function-${name}`;
        const buildId = uuid(`${seed}:build:${push}:${i}`);
        const ref = { buildId, name, owner, repo, sha: commit, contextDigest: `sha256:${sha(`${name}:${push % 5}`)}` };
        const image = `local/${owner}/${name}:latest-main-${commit.slice(0, 7)}`;
        let built;
        if ((push + i) % 7 === 3 && previousBuild.has(name)) {
          built = emit(stream, 'BuildReused', { ...ref, image, reusedBuildId: previousBuild.get(name) }, fetched);
        } else {
          const started = emit(stream, 'BuildStarted', ref, fetched);
          if ((push + i) % 31 === 5) {
            emit(
              stream,
              'BuildFailed',
              { ...ref, reason: 'npm install exited 1', durationMs: 900 + i, logRef: buildId, logTail: 'npm ERR! 404' },
              started,
            );
            reportStatus(name, 'failure', 'build failed: npm install exited 1', started);
            failed++;
            return;
          }
          // Half the history predates BuildSucceeded v2: stored at v1, read through the upcaster.
          const v1 = push % 2 === 0;
          built = emit(
            stream,
            'BuildSucceeded',
            {
              ...ref,
              image,
              durationMs: 1000 + (push % 100),
              logRef: buildId,
              logTail: 'built',
              ...(v1 ? {} : { builder: 'local', imageDigest: null }),
            },
            started,
            v1 ? 1 : 2,
          );
          previousBuild.set(name, buildId);
        }
        const deployed = emit(
          stream,
          'FunctionDeployed',
          {
            name,
            owner,
            repo,
            function: `${repo}-fn${i}`,
            branch: 'main',
            sha: commit,
            image,
            endpoint: `http://127.0.0.1:8081/function/${name}`,
            deliveryId,
            buildId,
            pushSequence: streamVersions.get(repoStream),
          },
          built,
        );
        reportStatus(name, 'success', `deployed: http://127.0.0.1:8081/function/${name}`, deployed);
      });
      reportStatus(
        'stack-deploy',
        failed ? 'failure' : 'success',
        failed ? `${failed} of ${names.length} function(s) failed` : 'stack is successfully deployed',
        out.at(-1).eventId,
      );
    }
    for (const event of out) {
      if (produced >= count) return;
      produced++;
      yield event;
    }
  }
}

/** Appends `count` synthetic events after the current head of `databaseUrl`'s events table; resolves with the new head. */
export async function writeSyntheticHistory(databaseUrl, count, options = {}) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const [{ head }] = (await client.query('SELECT coalesce(max(global_position), 0)::bigint AS head FROM events')).rows;
    let position = Number(head);
    const stored = (await client.query('SELECT stream_id, max(stream_version) AS version FROM events GROUP BY stream_id')).rows;
    const streamVersions = new Map(stored.map((row) => [row.stream_id, row.version]));
    const chunk = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      const column = (pick) => chunk.map(pick);
      await client.query(
        `INSERT INTO events (global_position, stream_id, stream_version, event_id, type, schema_version, data, occurred_at, correlation_id, causation_id, actor)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])`,
        [
          column((e) => e.position),
          column((e) => e.streamId),
          column((e) => e.version),
          column((e) => e.eventId),
          column((e) => e.type),
          column((e) => e.schemaVersion),
          column((e) => JSON.stringify(e.data)),
          column((e) => new Date(Date.UTC(2026, 0, 1) + e.position * 10).toISOString()),
          column((e) => e.correlationId),
          column((e) => e.causationId),
          column((e) => e.actor),
        ],
      );
      // On the Kafka log the relay publishes what the outbox lists.
      if (options.outbox)
        await client.query(`INSERT INTO outbox (global_position, stream_id) SELECT * FROM unnest($1::bigint[], $2::text[])`, [
          column((e) => e.position),
          column((e) => e.streamId),
        ]);
      chunk.length = 0;
    };
    for (const event of syntheticEvents(count, { ...options, streamVersions })) {
      chunk.push({ ...event, position: ++position });
      if (chunk.length === 10_000) await flush();
    }
    await flush();
    return position;
  } finally {
    await client.end();
  }
}
