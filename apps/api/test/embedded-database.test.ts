import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from '../../../libs/infra/test/support/backbones.js';
import { bareEnv, main, root, start, stop } from './support/spawn-api.js';

/**
 * The embedded PostgreSQL belongs to faasline alone: generated passwords, a runtime role that can only append
 * events, a unix socket in a folder only its user enters, one instance per DATA_DIR, and a start that always
 * comes up after the whole process group was SIGKILLed in the middle of a build. DATA_DIR sits in a mkdtemp
 * folder (0700): as root, PostgreSQL runs as the `postgres` user, which cannot enter it.
 */
describe('the embedded database', () => {
  const parent = mkdtempSync(join(tmpdir(), 'faasline-db-'));
  const dataDir = join(parent, 'data');
  const env = () => ({ ...bareEnv(), DATA_DIR: dataDir, GATEWAY_PORT: '0' });
  const clusterDir = () => {
    const record = join(dataDir, 'postgres-location');
    return existsSync(record) ? readFileSync(record, 'utf8').trim() : join(dataDir, 'postgres');
  };
  const secret = (name: string) => readFileSync(join(dataDir, 'secrets', name), 'utf8').trim();
  const login = async (user: string, password: string) => {
    const client = new pg.Client({ host: clusterDir(), port: 5432, user, password, database: 'faasline' });
    await client.connect();
    return client;
  };
  const failure = (work: Promise<unknown>) =>
    work.then(
      () => null,
      (error: { code?: string; message: string }) => error.code ?? error.message,
    );

  afterAll(() => {
    const cluster = clusterDir();
    rmSync(parent, { recursive: true, force: true });
    if (cluster.startsWith('/var/lib/faasline/')) rmSync(cluster, { recursive: true, force: true });
  });

  it('starts from a folder others cannot enter, and names where the cluster lives', async () => {
    expect(statSync(parent).mode & 0o777).toBe(0o700);
    const { child, url, output } = await start(env());
    try {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(output()).toContain(`storage: embedded PostgreSQL in ${clusterDir()} (unix socket only`);
      // Only the user PostgreSQL runs as enters the cluster (and the socket inside it).
      expect(statSync(clusterDir()).mode & 0o077).toBe(0);
      expect(statSync(join(clusterDir(), '.s.PGSQL.5432')).isSocket()).toBe(true);
      for (const name of ['postgres-password', 'postgres-superuser-password']) {
        expect(statSync(join(dataDir, 'secrets', name)).mode & 0o777).toBe(0o600);
      }
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 180_000);

  it('refuses the old postgres/postgres login, and gives the runtime role no power over recorded events', async () => {
    const { child, url } = await start(env());
    try {
      expect(await failure(login('postgres', 'postgres'))).toBe('28P01');
      const admin = await login('postgres', secret('postgres-superuser-password'));
      const runtime = await login('faasline', secret('postgres-password'));
      try {
        // An event recorded by the app itself: the webhook's ping.
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
        await admin.query(
          `INSERT INTO events (global_position, stream_id, stream_version, event_id, type, schema_version, data, occurred_at, correlation_id, causation_id, actor)
           VALUES (1000000, 'test-stream', 1, gen_random_uuid(), 'Test', 1, '{}', now(), 'c', 'c', 'test')`,
        );
        expect((await runtime.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = 'test-stream'`)).rows[0].n).toBe(1);
        expect(await failure(runtime.query(`UPDATE events SET type = 'Forged' WHERE stream_id = 'test-stream'`))).toBe('42501');
        expect(await failure(runtime.query(`DELETE FROM events WHERE stream_id = 'test-stream'`))).toBe('42501');
        expect(await failure(runtime.query(`TRUNCATE events`))).toBe('42501');
        expect(await failure(runtime.query(`DROP TABLE events`))).toBe('42501');
        expect(await failure(runtime.query(`COPY read_functions FROM PROGRAM 'id'`))).toBe('42501');
        expect(await failure(runtime.query(`CREATE ROLE intruder SUPERUSER`))).toBe('42501');
        expect((await runtime.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)).rows[0].rolsuper).toBe(false);
        expect((await runtime.query(`SHOW listen_addresses`)).rows[0].listen_addresses).toBe('');
        expect(
          (await runtime.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = 'test-stream' AND type = 'Test'`)).rows[0].n,
        ).toBe(1);
        await admin.query(`DELETE FROM events WHERE stream_id = 'test-stream'`);
        // What the runtime role does need: a replay rebuilds the read models into new tables and swaps them in.
        const authorization = `Bearer ${secret('admin-token')}`;
        const started = await fetch(`${url}/api/v1/admin/replay`, { method: 'POST', headers: { authorization } });
        expect(started.status).toBe(202);
        const { id } = (await started.json()) as { id: string };
        let report: { status?: string; error?: string | null } = {};
        await eventually(
          async () => {
            report = (await (await fetch(`${url}/api/v1/admin/replay/${id}`, { headers: { authorization } })).json()) as typeof report;
            return report.status !== 'running';
          },
          60_000,
          'the replay to finish',
        );
        expect(report).toMatchObject({ status: 'done', error: null });
      } finally {
        await runtime.end();
        await admin.end();
      }
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 120_000);

  it('moves a cluster made with the old fixed password to a generated one at its next start', async () => {
    const first = await start(env());
    const admin = await login('postgres', secret('postgres-superuser-password'));
    await admin.query(`ALTER ROLE postgres PASSWORD 'postgres'`);
    await admin.end();
    expect(await stop(first.child)).toBe(0);
    // What an older faasline left: the fixed password and no secret file.
    unlinkSync(join(dataDir, 'secrets', 'postgres-superuser-password'));
    const second = await start(env());
    try {
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
      expect(await failure(login('postgres', 'postgres'))).toBe('28P01');
      await (await login('postgres', secret('postgres-superuser-password'))).end();
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
  }, 120_000);

  it('runs once per DATA_DIR: a second start says already running and touches nothing', async () => {
    const first = await start(env());
    try {
      const lock = readFileSync(join(dataDir, 'faasline.lock'), 'utf8');
      const second = spawnSync(process.execPath, [main], { cwd: root, env: { ...env(), PORT: '0' }, encoding: 'utf8', timeout: 60_000 });
      expect(second.status).toBe(1);
      expect(second.stderr.trim()).toBe(`faasline: already running (pid ${first.child.pid}) on DATA_DIR ${dataDir}`);
      expect(readFileSync(join(dataDir, 'faasline.lock'), 'utf8')).toBe(lock);
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${first.url}/readyz`)).json()).toEqual({ status: 'ok', checks: { database: 'ok', log: 'ok' } });
    } finally {
      expect(await stop(first.child)).toBe(0);
    }
    expect(existsSync(join(dataDir, 'faasline.lock'))).toBe(false);
  }, 120_000);

  it('starts when postmaster.pid names a dead postmaster nobody reaped yet (a zombie of its user)', async () => {
    const first = await start(env());
    const postmasterPid = readFileSync(join(clusterDir(), 'postmaster.pid'), 'utf8');
    expect(await stop(first.child)).toBe(0);
    // `sleep 0` exits and is never waited for by the `sleep 60` its shell became: a zombie, as a killed
    // postmaster is until init reaps it. Owned like the postmaster was, PostgreSQL takes it for a live one.
    const owner = statSync(clusterDir());
    const parentOfZombie = spawn('sh', ['-c', 'sleep 0 & exec sleep 60'], { uid: owner.uid, gid: owner.gid, stdio: 'ignore' });
    try {
      let zombie = 0;
      await eventually(
        async () => {
          const children = execFileSync('ps', ['-o', 'pid=,stat=', '--ppid', String(parentOfZombie.pid)])
            .toString()
            .trim()
            .split('\n');
          zombie = Number(children.map((line) => line.trim().split(/\s+/)).find(([, stat]) => stat?.startsWith('Z'))?.[0] ?? 0);
          return zombie > 0;
        },
        10_000,
        'a zombie',
      );
      writeFileSync(join(clusterDir(), 'postmaster.pid'), postmasterPid.replace(/^\d+/, String(zombie)));
      const second = await start(env());
      try {
        expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
      } finally {
        expect(await stop(second.child)).toBe(0);
      }
    } finally {
      parentOfZombie.kill('SIGKILL');
    }
  }, 120_000);

  it('says in one line why the database does not start', () => {
    const settings = join(clusterDir(), 'postgresql.auto.conf');
    const before = readFileSync(settings, 'utf8');
    writeFileSync(settings, `${before}shared_buffers = 'plenty'\n`);
    try {
      const result = spawnSync(process.execPath, [main], { cwd: root, env: { ...env(), PORT: '0' }, encoding: 'utf8', timeout: 60_000 });
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^faasline: cannot start: embedded PostgreSQL exited at start \(code 1\): LOG: invalid value for parameter "shared_buffers": "plenty".* \| FATAL: configuration file .* contains errors$/,
      );
    } finally {
      writeFileSync(settings, before);
    }
  }, 90_000);

  describe('after the whole process group was SIGKILLed in the middle of a build', () => {
    // A registry that accepts requests and never answers: the build waits in `npm install`.
    let registry: Server;
    let registryHits = 0;
    const source = join(parent, 'slow-repo');
    beforeAll(async () => {
      registry = createServer(() => void (registryHits += 1));
      await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
      mkdirSync(join(source, 'slow'), { recursive: true });
      writeFileSync(
        join(source, 'stack.yml'),
        'provider:\n  name: openfaas\nfunctions:\n  slow:\n    lang: node20\n    handler: ./slow\n    image: slow\n',
      );
      writeFileSync(join(source, 'slow', 'handler.js'), 'module.exports = async () => "slow"\n');
      writeFileSync(join(source, 'slow', 'package.json'), '{"name":"slow","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}}\n');
      execFileSync('git', ['init', '-q'], { cwd: source });
      execFileSync('git', ['add', '-A'], { cwd: source });
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'slow'], { cwd: source });
    });
    afterAll(() => {
      registry.closeAllConnections();
      registry.close();
    });

    it('comes up every time', async () => {
      const address = registry.address();
      const buildEnv = { ...env(), npm_config_registry: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/` };
      let running: ChildProcess | null = null;
      try {
        for (let attempt = 1; attempt <= 4; attempt += 1) {
          const { child, url } = await start(buildEnv, { ownProcessGroup: true });
          running = child;
          expect((await fetch(`${url}/readyz`)).status).toBe(200);
          const hits = registryHits;
          // The first start gets the push; later ones resume the build the previous one left unfinished.
          const push =
            attempt === 1
              ? spawn(process.execPath, [join(root, 'bin/faasline.js'), 'push', source, '--owner', 'me', '--api', url], {
                  env: buildEnv,
                  stdio: 'ignore',
                })
              : null;
          await eventually(async () => registryHits > hits, 60_000, `attempt ${attempt}: the build to reach npm install`);
          push?.kill();
          const exited = new Promise((resolve) => child.once('exit', resolve));
          process.kill(-child.pid!, 'SIGKILL');
          await exited;
          running = null;
        }
        const { child, url } = await start(buildEnv, { ownProcessGroup: true });
        running = child;
        expect((await fetch(`${url}/readyz`)).status).toBe(200);
      } finally {
        if (running) expect(await stop(running)).toBe(0);
      }
    }, 300_000);
  });
});
