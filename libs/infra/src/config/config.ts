import { isAbsolute, resolve } from 'node:path';
import { cpuQuantityCores, memoryQuantityBytes, parseHostRule } from '#domain';

/** A bad setting: start-up stops with this one line, naming the variable and what is wrong with it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

export type Config = Readonly<{
  host: string;
  port: number;
  gatewayPort: number;
  dataDir: string;
  databaseUrl: string | null;
  kafka: Readonly<{ brokers: readonly string[]; topic: string; partitions: number; replicationFactor: number }> | null;
  githubApiUrl: string;
  /** null: generated at first start and kept in DATA_DIR. */
  githubWebhookSecret: string | null;
  githubToken: string | null;
  /** null: generated at first start and kept in DATA_DIR. */
  adminToken: string | null;
  /** Signed links: LINKS_SECRET (null: generated at first start and kept in DATA_DIR) and how long a build log link opens. */
  links: Readonly<{ secret: string | null; buildLogTtlMs: number }>;
  githubApp: Readonly<{ appId: string; privateKey: string | null; privateKeyFile: string | null }> | null;
  /** GIT_ALLOWED_HOSTS: where clone URLs and stack-chosen template sources may point. */
  gitAllowedHosts: readonly string[];
  /**
   * Hosts only a push's own clone URL may use besides those: loopback on one machine (embedded storage, no
   * GIT_ALLOWED_HOSTS), where `faasline push` serves the repository. Never used for template sources.
   */
  pushCloneHosts: readonly string[];
  customers: readonly string[] | null;
  customersFile: string | null;
  buildBranch: string | null;
  openfaasUrl: string | null;
  openfaasUser: string;
  /** null: generated at first start and kept in DATA_DIR (the embedded gateway's password). */
  openfaasPassword: string | null;
  buildkitAddr: string | null;
  registry: string;
  publicUrl: string;
  gatewayPublicUrl: string;
  enableDockerfileLang: boolean;
  maxFunctionsPerRepo: number;
  /** MAX_FUNCTION_MEMORY, MAX_FUNCTION_CPU: the most a stack file may ask for one function (limits and requests), as written. */
  maxFunctionMemory: string;
  maxFunctionCpu: string;
  buildConcurrency: number;
  /** BUILD_TIMEOUT: a build running longer is killed (its whole process tree) and fails. */
  buildTimeoutMs: number;
  /** PIP_SOURCE_BUILDS: pip may build source distributions (running their build backends); wheels only otherwise. */
  pipSourceBuilds: boolean;
  /** MAX_BUILD_MB: disk one local build's context may take (sources and installed dependencies); past it the build fails. */
  maxBuildBytes: number;
  /** Operator template folders (`<lang>/template.yml`), searched before the built-in set. */
  templatesDirs: readonly string[];
  /** auto: contain functions and local builds when a sandbox works here; required: refuse to start without one; off: never. */
  sandbox: Readonly<{ mode: 'auto' | 'off' | 'required'; uidBase: number }>;
  source: Readonly<{ concurrency: number; fetchTimeoutMs: number; maxRepoBytes: number; maxRepoFiles: number; maxContextBytes: number }>;
  /** What one owner may take of the machine, and how much disk the build caches may keep. */
  fairShare: Readonly<{ maxFunctionsPerOwner: number; maxBuildsPerOwner: number; maxImagesBytes: number; maxTemplateCacheBytes: number }>;
}>;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the environment of INTERFACE.md; unset means the embedded default. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const port = integer(read, 'PORT', 8080, 0, 65535);
  const gatewayPort = integer(read, 'GATEWAY_PORT', 8081, 0, 65535);
  const dataDir = read('DATA_DIR') ?? './.faasline';
  const brokers = read('KAFKA_BROKERS');
  const databaseUrl = read('DATABASE_URL') ?? null;
  if (databaseUrl !== null) url('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);
  const topic = read('KAFKA_TOPIC') ?? 'faasline.events';
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) throw new ConfigError('KAFKA_TOPIC', `"${topic}" is not a valid Kafka topic name`);
  const publicUrl = read('PUBLIC_URL') ?? `http://127.0.0.1:${port}`;
  const gatewayPublicUrl = read('GATEWAY_PUBLIC_URL') ?? read('OPENFAAS_URL') ?? `http://127.0.0.1:${gatewayPort}`;
  const registry = read('REGISTRY') ?? 'local';
  const buildConcurrency = integer(read, 'BUILD_CONCURRENCY', 2, 1, 64);
  if (!/^[a-z0-9]([a-z0-9._:/-]*[a-z0-9/])?$/.test(registry)) throw new ConfigError('REGISTRY', `"${registry}" is not an image prefix (lower-case host[:port][/path][/])`);
  return {
    host: read('HOST') ?? '127.0.0.1',
    port,
    gatewayPort,
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(cwd, dataDir),
    databaseUrl,
    kafka: brokers
      ? {
          brokers: list(brokers).map((broker) => hostPort('KAFKA_BROKERS', broker)),
          topic,
          partitions: integer(read, 'KAFKA_TOPIC_PARTITIONS', 6, 1, 1000),
          replicationFactor: integer(read, 'KAFKA_REPLICATION_FACTOR', 1, 1, 10),
        }
      : null,
    githubApiUrl: url('GITHUB_API_URL', read('GITHUB_API_URL') ?? 'https://api.github.com', ['http:', 'https:']),
    githubWebhookSecret: read('GITHUB_WEBHOOK_SECRET') ?? null,
    githubToken: read('GITHUB_TOKEN') ?? null,
    adminToken: read('ADMIN_TOKEN') ?? null,
    links: { secret: read('LINKS_SECRET') ?? null, buildLogTtlMs: duration(read, 'LINK_TTL', 7 * DAY, 1, 366 * DAY) * 1000 },
    githubApp: githubApp(read),
    gitAllowedHosts: hostList(read('GIT_ALLOWED_HOSTS') ?? 'github.com'),
    // On one machine (embedded storage) `faasline push` serves local repositories on loopback; a server does not.
    pushCloneHosts: read('GIT_ALLOWED_HOSTS') === undefined && databaseUrl === null ? ['127.0.0.1:*'] : [],
    customers: read('CUSTOMERS') ? list(read('CUSTOMERS')!).map((owner) => owner.toLowerCase()) : null,
    customersFile: read('CUSTOMERS_FILE') ?? null,
    buildBranch: read('BUILD_BRANCH') ?? null,
    openfaasUrl: read('OPENFAAS_URL') ? url('OPENFAAS_URL', read('OPENFAAS_URL')!, ['http:', 'https:']) : null,
    openfaasUser: read('OPENFAAS_USER') ?? 'admin',
    openfaasPassword: read('OPENFAAS_PASSWORD') ?? null,
    buildkitAddr: read('BUILDKIT_ADDR') ? buildkitAddress(read('BUILDKIT_ADDR')!) : null,
    registry,
    publicUrl: url('PUBLIC_URL', publicUrl, ['http:', 'https:']),
    gatewayPublicUrl: url('GATEWAY_PUBLIC_URL', gatewayPublicUrl, ['http:', 'https:']),
    enableDockerfileLang: boolean(read, 'ENABLE_DOCKERFILE_LANG', false),
    maxFunctionsPerRepo: integer(read, 'MAX_FUNCTIONS_PER_REPO', 20, 1, 1000),
    maxFunctionMemory: quantity(read, 'MAX_FUNCTION_MEMORY', '1Gi', memoryQuantityBytes, 'a memory quantity like 512Mi or 2Gi'),
    maxFunctionCpu: quantity(read, 'MAX_FUNCTION_CPU', '2', cpuQuantityCores, 'a number of cores like 2, 1.5 or 500m'),
    buildConcurrency,
    buildTimeoutMs: integer(read, 'BUILD_TIMEOUT', 600, 1, 86_400) * 1000,
    pipSourceBuilds: boolean(read, 'PIP_SOURCE_BUILDS', false),
    maxBuildBytes: integer(read, 'MAX_BUILD_MB', 1024, 1, 1_048_576) * 2 ** 20,
    templatesDirs: list(read('TEMPLATES_DIR') ?? '').map((dir) => (isAbsolute(dir) ? dir : resolve(cwd, dir))),
    sandbox: { mode: sandboxMode(read('SANDBOX')), uidBase: integer(read, 'SANDBOX_UID_BASE', 61000, 1000, 4_294_000_000) },
    source: {
      concurrency: integer(read, 'FETCH_CONCURRENCY', 4, 1, 64),
      fetchTimeoutMs: integer(read, 'GIT_FETCH_TIMEOUT', 120, 1, 3600) * 1000,
      maxRepoBytes: integer(read, 'MAX_REPO_MB', 200, 1, 100_000) * 1024 * 1024,
      maxRepoFiles: integer(read, 'MAX_REPO_FILES', 20_000, 1, 10_000_000),
      maxContextBytes: integer(read, 'MAX_HANDLER_MB', 25, 1, 10_000) * 1024 * 1024,
    },
    fairShare: {
      maxFunctionsPerOwner: integer(read, 'MAX_FUNCTIONS_PER_OWNER', 50, 1, 100_000),
      // Half the build slots at most by default, so one owner's builds always leave room for another's.
      maxBuildsPerOwner: integer(read, 'MAX_BUILDS_PER_OWNER', Math.max(1, Math.floor(buildConcurrency / 2)), 1, 64),
      maxImagesBytes: integer(read, 'MAX_IMAGES_MB', 10_240, 1, 10_000_000) * 1024 * 1024,
      maxTemplateCacheBytes: integer(read, 'MAX_TEMPLATE_CACHE_MB', 512, 1, 10_000_000) * 1024 * 1024,
    },
  };
}

function sandboxMode(raw: string | undefined): 'auto' | 'off' | 'required' {
  const mode = raw?.toLowerCase() ?? 'auto';
  if (mode !== 'auto' && mode !== 'off' && mode !== 'required') throw new ConfigError('SANDBOX', `"${raw}" is not auto, off or required`);
  return mode;
}

const list = (value: string) =>
  value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);

function hostList(value: string): string[] {
  const hosts = list(value).map((host) => host.toLowerCase());
  const bad = hosts.find((host) => parseHostRule(host) === null);
  if (bad !== undefined) throw new ConfigError('GIT_ALLOWED_HOSTS', `"${bad.slice(0, 60)}" is not host, host:port or host:*`);
  return hosts;
}

function integer(read: (name: string) => string | undefined, name: string, fallback: number, min: number, max: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `"${raw}" is not a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

/** A resource quantity the stack rules compare against, kept as written so a rejection can quote it. */
function quantity(read: (name: string) => string | undefined, name: string, fallback: string, parse: (text: string) => number | null, example: string): string {
  const raw = read(name);
  if (raw === undefined) return fallback;
  if (parse(raw) === null) throw new ConfigError(name, `"${raw.slice(0, 40)}" is not ${example}`);
  return raw;
}

const DAY = 24 * 60 * 60;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 60 * 60, d: DAY };

/** Seconds, written as `3600`, `90s`, `15m`, `12h` or `7d`. */
function duration(read: (name: string) => string | undefined, name: string, fallback: number, min: number, max: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
  const match = /^(\d+)([smhd]?)$/.exec(raw);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] || 's']! : NaN;
  if (!(seconds >= min && seconds <= max)) throw new ConfigError(name, `"${raw}" is not a duration from ${min} s to ${max / DAY} days (e.g. 3600, 15m, 12h, 7d)`);
  return seconds;
}

function boolean(read: (name: string) => string | undefined, name: string, fallback: boolean): boolean {
  const raw = read(name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `"${raw}" is not true or false`);
}

function url(name: string, value: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a URL');
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return value.replace(/\/+$/, '');
}

function hostPort(name: string, value: string): string {
  const match = /^([a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) > 65535) throw new ConfigError(name, `"${value}" is not host:port`);
  return value;
}

function githubApp(read: (name: string) => string | undefined): Config['githubApp'] {
  const appId = read('GITHUB_APP_ID');
  const privateKey = read('GITHUB_APP_PRIVATE_KEY') ?? null;
  const privateKeyFile = read('GITHUB_APP_PRIVATE_KEY_FILE') ?? null;
  if (appId === undefined) {
    if (privateKey || privateKeyFile) throw new ConfigError('GITHUB_APP_ID', 'is required with GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE');
    return null;
  }
  if (!/^\d+$|^Iv[0-9A-Za-z.]+$/.test(appId)) throw new ConfigError('GITHUB_APP_ID', 'must be the numeric App ID or the Client ID');
  if (!privateKey && !privateKeyFile) throw new ConfigError('GITHUB_APP_PRIVATE_KEY', 'or GITHUB_APP_PRIVATE_KEY_FILE is required with GITHUB_APP_ID');
  if (privateKey && !privateKey.includes('PRIVATE KEY')) throw new ConfigError('GITHUB_APP_PRIVATE_KEY', 'is not a PEM private key');
  return { appId, privateKey, privateKeyFile };
}

function buildkitAddress(value: string): string {
  if (/^tcp:\/\/[^/]+:\d+$/.test(value) || /^unix:\/\/\/.+/.test(value)) return value;
  throw new ConfigError('BUILDKIT_ADDR', `"${value}" is not tcp://host:port or unix:///path`);
}
