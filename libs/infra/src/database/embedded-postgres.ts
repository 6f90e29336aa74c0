import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { ConfigError } from '../config/config.js';
import { loadOrCreateSecret } from '../security/local-secret.js';
import {
  clearStaleServer,
  initCluster,
  postgresBinaries,
  postgresOsUser,
  reachableBy,
  startServer,
  systemStateDir,
  type OsUser,
} from './postgres-process.js';

export type RunningPostgres = Readonly<{
  /** The runtime role's URL: not a superuser, cannot change or remove recorded events. */
  url: string;
  /** The superuser's URL, for migrations and grants at start only. */
  adminUrl: string;
  /** Where the cluster and its socket live (said at start). */
  clusterDir: string;
  socketDir: string;
  /** Gives the runtime role what it needs on the tables the migrations made, and nothing more. */
  grantRuntimeRole: () => Promise<void>;
  stop: () => Promise<void>;
}>;

export const runtimeRole = 'faasline';
const superuser = 'postgres';
/** What clusters made before the password was generated accept; it stops working at their next start. */
const legacySuperuserPassword = 'postgres';
/** No TCP: the port only names the socket file. */
const socketPort = 5432;
/** A socket path longer than this does not fit in sun_path (108 bytes with the terminating NUL). */
const maxSocketPath = 107;

/**
 * A real PostgreSQL started as a child process: `npm start` needs no database server. It listens on a unix
 * socket inside its own data folder (0700, owned by the user PostgreSQL runs as) and on no TCP port; every role
 * authenticates with SCRAM against passwords generated into DATA_DIR/secrets. The cluster survives restarts.
 * As root, PostgreSQL runs as the `postgres` user: the cluster then lives where that user can reach it.
 */
export async function startEmbeddedPostgres(dataDir: string, database = 'faasline'): Promise<RunningPostgres> {
  mkdirSync(resolve(dataDir), { recursive: true });
  const runAs = await postgresOsUser();
  const clusterDir = clusterLocation(resolve(dataDir), runAs);
  const socketDir = clusterDir;
  if (join(socketDir, `.s.PGSQL.${socketPort}`).length > maxSocketPath) {
    throw new ConfigError(
      'DATA_DIR',
      `${dataDir} is too long a path for the embedded PostgreSQL's socket (${clusterDir}): use a shorter DATA_DIR`,
    );
  }
  // First: without the binaries nothing else is worth writing to DATA_DIR.
  const binaries = postgresBinaries(runAs);
  const superuserPassword = (await loadOrCreateSecret(null, dataDir, 'postgres-superuser-password')).value;
  const runtimePassword = (await loadOrCreateSecret(null, dataDir, 'postgres-password')).value;
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (fresh) await initCluster({ binaries, dataDir: clusterDir, user: superuser, password: superuserPassword, runAs });
  else await clearStaleServer(clusterDir, socketDir, socketPort);
  writeAccessRules(clusterDir, runAs);
  const server = await startServer({ binaries, dataDir: clusterDir, socketDir, port: socketPort, runAs });
  try {
    const host = encodeURIComponent(socketDir);
    const urlFor = (user: string, password: string, name: string) =>
      `postgres://${user}:${encodeURIComponent(password)}@${host}:${socketPort}/${name}`;
    await prepareRoles({ socketDir, database, superuserPassword, runtimePassword });
    const adminUrl = urlFor(superuser, superuserPassword, database);
    return {
      url: urlFor(runtimeRole, runtimePassword, database),
      adminUrl,
      clusterDir,
      socketDir,
      grantRuntimeRole: () => withClient(adminUrl, grantRuntimeRole),
      stop: server.stop,
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * DATA_DIR/postgres when the user PostgreSQL runs as can reach it (always when faasline is not root, and where
 * existing clusters are). As root with DATA_DIR in a folder others cannot enter, a folder of its own under
 * /var/lib/faasline instead, chosen once and recorded in DATA_DIR/postgres-location.
 */
function clusterLocation(dataDir: string, runAs: OsUser | null): string {
  const inDataDir = join(dataDir, 'postgres');
  const record = join(dataDir, 'postgres-location');
  if (existsSync(record)) return readFileSync(record, 'utf8').trim();
  if (reachableBy(dataDir, runAs)) return inDataDir;
  if (existsSync(join(inDataDir, 'PG_VERSION'))) {
    throw new ConfigError(
      'DATA_DIR',
      `the embedded PostgreSQL in ${inDataDir} is inside a folder the postgres user cannot enter (running as root): move DATA_DIR out of it, e.g. DATA_DIR=/var/lib/faasline/data`,
    );
  }
  mkdirSync(systemStateDir, { recursive: true, mode: 0o755 });
  const clusterDir = join(systemStateDir, `cluster-${randomBytes(6).toString('hex')}`);
  mkdirSync(clusterDir, { mode: 0o700 });
  if (runAs) chownSync(clusterDir, runAs.uid, runAs.gid);
  writeFileSync(record, `${clusterDir}\n`, { mode: 0o600 });
  return clusterDir;
}

/** Socket connections with a password only, rewritten at every start (so older clusters' TCP rules go). */
function writeAccessRules(clusterDir: string, runAs: OsUser | null): void {
  const file = join(clusterDir, 'pg_hba.conf');
  writeFileSync(file, '# Written by faasline at every start: unix socket only, SCRAM passwords only.\nlocal all all scram-sha-256\n', {
    mode: 0o600,
  });
  chmodSync(file, 0o600);
  if (runAs) chownSync(file, runAs.uid, runAs.gid);
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'faasline-setup' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Logs in as the superuser, moving clusters made with the old fixed password to the generated one; makes sure
 * the database and the runtime role exist, the role with no power beyond its grants.
 */
async function prepareRoles(options: {
  socketDir: string;
  database: string;
  superuserPassword: string;
  runtimePassword: string;
}): Promise<void> {
  const { socketDir, database, superuserPassword, runtimePassword } = options;
  const connect = async (password: string) => {
    const client = new pg.Client({
      host: socketDir,
      port: socketPort,
      user: superuser,
      password,
      database: 'postgres',
      application_name: 'faasline-setup',
    });
    await client.connect();
    return client;
  };
  let client: pg.Client;
  try {
    client = await connect(superuserPassword);
  } catch (error) {
    if ((error as { code?: string }).code !== '28P01') throw error;
    client = await connect(legacySuperuserPassword).catch(() => {
      throw new Error(`the embedded PostgreSQL rejects the superuser password in DATA_DIR/secrets/postgres-superuser-password`);
    });
    await client.query(`ALTER ROLE ${superuser} PASSWORD ${client.escapeLiteral(superuserPassword)}`);
  }
  try {
    const [{ exists }] = (await client.query('SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists', [database]))
      .rows as [{ exists: boolean }];
    if (!exists) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    const [{ role }] = (await client.query('SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS role', [runtimeRole])).rows as [
      { role: boolean },
    ];
    const attributes = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD ${client.escapeLiteral(runtimePassword)}`;
    await client.query(`${role ? 'ALTER' : 'CREATE'} ROLE ${runtimeRole} ${attributes}`);
    // Only the roles named here may connect; pg_* roles such as pg_execute_server_program are never granted.
    await client.query(`REVOKE ALL ON DATABASE ${client.escapeIdentifier(database)} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${client.escapeIdentifier(database)} TO ${runtimeRole}`);
  } finally {
    await client.end();
  }
}

/**
 * The event store is append-only for the runtime role: SELECT and INSERT on `events`, nothing else. It owns the
 * read models (replay rebuilds them into shadow tables and swaps them in, which takes ownership and CREATE on
 * the schema) and reads and writes the working tables; the migrations table it may only read.
 */
async function grantRuntimeRole(client: pg.Client): Promise<void> {
  await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${runtimeRole}`);
  const { rows } = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`);
  for (const { name } of rows) {
    const table = client.escapeIdentifier(name);
    if (name.startsWith('read_')) {
      await client.query(`ALTER TABLE ${table} OWNER TO ${runtimeRole}`);
      continue;
    }
    await client.query(`REVOKE ALL ON ${table} FROM ${runtimeRole}`);
    const privileges = name === 'events' ? 'SELECT, INSERT' : name === 'migrations' ? 'SELECT' : 'SELECT, INSERT, UPDATE, DELETE';
    await client.query(`GRANT ${privileges} ON ${table} TO ${runtimeRole}`);
  }
  await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${runtimeRole}`);
}
