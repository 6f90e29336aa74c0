import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { cpuQuantityCores, isSecretName, memoryQuantityBytes, parseHostRule, parseWatchdogDuration } from '#domain';

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
  /** Where a process without the api (the projector) answers /healthz and /readyz; null: it serves no HTTP. */
  healthPort: number | null;
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
  /** Signing in to the dashboard and the API: see `SignInConfig`. */
  signIn: SignInConfig;
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
  /** PREVIEW_BRANCHES (glob patterns of branches that deploy previews; null: off) and PREVIEW_TTL. */
  previews: Readonly<{ branches: readonly string[] | null; ttlMs: number }>;
  openfaasUrl: string | null;
  openfaasUser: string;
  /** null: generated at first start and kept in DATA_DIR (the embedded gateway's password). */
  openfaasPassword: string | null;
  buildkitAddr: string | null;
  /**
   * BUILDKIT_TLS_CA, BUILDKIT_TLS_CERT, BUILDKIT_TLS_KEY (files, as buildctl's --tlscacert/--tlscert/--tlskey) and
   * BUILDKIT_TLS_SERVER_NAME; null: plaintext gRPC. A CA alone verifies the daemon without a client certificate.
   */
  buildkitTls: BuildKitTlsFiles | null;
  /**
   * BUILDKIT_CONTEXT: how BuildKit gets a build's context: over the build's session (FileSync, nothing to reach back
   * over HTTP) or from the api's expiring context URL (BuildKit must reach PUBLIC_URL).
   */
  buildkitContext: 'session' | 'http';
  /** REGISTRY_AUTH_FILE: a Docker config.json whose `auths` BuildKit gets over the session for its pushes; null: anonymous. */
  registryAuthFile: string | null;
  registry: string;
  /**
   * REGISTRY_PULL: the same registry as the gateway's nodes reach it (an in-cluster name): deployed images name it in
   * place of REGISTRY's prefix, while BuildKit pushes to REGISTRY. null: the gateway pulls from REGISTRY.
   */
  registryPull: string | null;
  /** REGISTRY_PULL_SECRET: the image pull secret (on the gateway, in the functions' namespace) every deployment names. */
  registryPullSecret: string | null;
  /** DEPLOY_READY_TIMEOUT: how long a deploy on an external gateway may take to have an available replica. */
  deployReadyTimeoutMs: number;
  /** BUILD_PLATFORMS: `os/arch[/variant]` BuildKit builds each image for (one multi-platform image); empty: the daemon's own. */
  buildPlatforms: readonly string[];
  publicUrl: string;
  gatewayPublicUrl: string;
  enableDockerfileLang: boolean;
  maxFunctionsPerRepo: number;
  /** MAX_FUNCTION_MEMORY, MAX_FUNCTION_CPU: the most a stack file may ask for one function (limits and requests), as written. */
  maxFunctionMemory: string;
  maxFunctionCpu: string;
  /** MAX_EXEC_TIMEOUT: the longest call a function's exec_timeout/write_timeout/read_timeout may ask for on the embedded gateway. */
  maxExecTimeoutMs: number;
  /**
   * SCALE_TO_ZERO_IDLE: how long a function on the embedded gateway may go without a call before its process stops
   * (its labels may say otherwise); null (`off`): functions run as long as they are deployed.
   */
  scaleToZeroIdleMs: number | null;
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

/**
 * How people sign in. `github`: GitHub OAuth with the App's client id and secret (GITHUB_CLIENT_ID,
 * GITHUB_CLIENT_SECRET or GITHUB_CLIENT_SECRET_FILE) against GITHUB_URL. `local`: no OAuth settings and nothing
 * reachable from elsewhere (HOST and PUBLIC_URL on loopback, the embedded defaults): the browser on this machine
 * gets an admin session without signing in. `off`: no OAuth settings on a reachable server: tokens only.
 */
export type SignInConfig = Readonly<{
  mode: 'github' | 'local' | 'off';
  github: Readonly<{ clientId: string; clientSecret: string | null; clientSecretFile: string | null; webUrl: string }> | null;
  /** ADMIN_LOGINS: GitHub logins (lower case) whose sessions are admin. */
  adminLogins: readonly string[];
  /** SESSION_TTL: a session ends this long after it was opened. */
  sessionTtlMs: number;
}>;

export type BuildKitTlsFiles = Readonly<{ caFile: string; certFile: string | null; keyFile: string | null; serverName: string | null }>;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the environment of INTERFACE.md; unset means the embedded default. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new ConfigError(String(issue!.path[0]), issue!.message);
  }
  const path = (dir: string) => (isAbsolute(dir) ? dir : resolve(cwd, dir));
  return { ...parsed.data, dataDir: path(parsed.data.dataDir), templatesDirs: parsed.data.templatesDirs.map(path) };
}

// Each variable is a string schema whose message quotes what was set; `variable` makes blank mean unset.

/** Surrounding space is dropped and a blank value counts as unset. */
const variable = <T extends z.ZodType<unknown, string>>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined), schema.optional());

/** A value that must pass `isValid`, refused with the value quoted and what it should have been. */
const matching = (isValid: (raw: string) => boolean, what: string, quote = (raw: string) => raw) =>
  z.string().refine(isValid, { error: (issue) => `"${quote(String(issue.input))}" is not ${what}` });

const text = z.string();

const wholeNumber = (min: number, max: number) =>
  matching((raw) => /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, `a whole number from ${min} to ${max}`).transform(
    Number,
  );

const DAY = 24 * 60 * 60;
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 60 * 60, d: DAY };
const secondsOf = (raw: string) => {
  const match = /^(\d+)([smhd]?)$/.exec(raw);
  return match ? Number(match[1]) * UNIT_SECONDS[match[2] || 's']! : NaN;
};

/** Seconds, written as `3600`, `90s`, `15m`, `12h` or `7d`. */
const duration = (min: number, max: number) =>
  matching(
    (raw) => secondsOf(raw) >= min && secondsOf(raw) <= max,
    `a duration from ${min} s to ${max / DAY} days (e.g. 3600, 15m, 12h, 7d)`,
  ).transform(secondsOf);

const YES = ['true', '1', 'yes'];
const NO = ['false', '0', 'no'];
const boolean = z
  .string()
  .transform((raw) => raw.toLowerCase())
  .pipe(matching((raw) => YES.includes(raw) || NO.includes(raw), 'true or false'))
  .transform((raw) => YES.includes(raw));

/**
 * PREVIEW_BRANCHES: `true` for every branch but the build branch, `false` for none, or comma-separated globs
 * (`feature/*,fix-*`). A pattern is a git branch name with `*`, `**` and `?`.
 */
const previewBranches = z
  .string()
  .transform((raw) =>
    YES.includes(raw.toLowerCase()) ? ['**'] : NO.includes(raw.toLowerCase()) ? null : raw.split(',').map((p) => p.trim()),
  )
  .pipe(
    z
      .array(
        matching(
          (pattern) => /^[A-Za-z0-9._/*?-]+$/.test(pattern) && !pattern.startsWith('-'),
          'true, false or a branch pattern like feature/*',
        ),
      )
      .nullable(),
  );

/** A resource quantity the stack rules compare against, kept as written so a rejection can quote it. */
const quantity = (parse: (text: string) => number | null, example: string) =>
  matching(
    (raw) => parse(raw) !== null,
    example,
    (raw) => raw.slice(0, 40),
  );

const url = (...protocols: string[]) =>
  z.string().check((context) => {
    const problem = !URL.canParse(context.value)
      ? 'is not a URL'
      : protocols.includes(new URL(context.value).protocol)
        ? null
        : `must start with ${protocols.map((protocol) => `${protocol}//`).join(' or ')}`;
    if (problem !== null) context.issues.push({ code: 'custom', message: problem, input: context.value });
  });
const httpUrl = url('http:', 'https:').transform((value) => value.replace(/\/+$/, ''));

const list = z.string().transform((value) =>
  value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean),
);

const hostPort = matching(
  (value) => Number(/^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value)?.[1] ?? NaN) <= 65535,
  'host:port',
);
const hostRule = matching(
  (host) => parseHostRule(host) !== null,
  'host, host:port or host:*',
  (raw) => raw.slice(0, 60),
);
const lowerCase = (items: string[]) => items.map((item) => item.toLowerCase());
/** GitHub's rule for user and organisation names: letters, digits and single inner hyphens, at most 39. */
const GITHUB_LOGIN = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/i;
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '::1'];
const isLoopback = (host: string) => LOOPBACK_HOSTS.includes(host.toLowerCase()) || /^127(?:\.\d{1,3}){3}$/.test(host);

/** An OCI platform as buildx takes it: `os/arch[/variant]`, lower case (`linux/amd64`, `linux/arm/v7`). */
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9.]+)?$/;

const SANDBOX_MODES = ['auto', 'off', 'required'] as const;
const sandboxMode = matching((raw) => (SANDBOX_MODES as readonly string[]).includes(raw.toLowerCase()), 'auto, off or required').transform(
  (raw) => raw.toLowerCase() as (typeof SANDBOX_MODES)[number],
);

const variables = z.object({
  HOST: variable(text),
  PORT: variable(wholeNumber(0, 65535)),
  GATEWAY_PORT: variable(wholeNumber(0, 65535)),
  HEALTH_PORT: variable(wholeNumber(0, 65535)),
  DATA_DIR: variable(text),
  DATABASE_URL: variable(url('postgres:', 'postgresql:')),
  KAFKA_BROKERS: variable(list.pipe(z.array(hostPort))),
  KAFKA_TOPIC: variable(matching((topic) => /^[a-zA-Z0-9._-]{1,249}$/.test(topic), 'a valid Kafka topic name')),
  KAFKA_TOPIC_PARTITIONS: variable(wholeNumber(1, 1000)),
  KAFKA_REPLICATION_FACTOR: variable(wholeNumber(1, 10)),
  GITHUB_API_URL: variable(httpUrl),
  GITHUB_WEBHOOK_SECRET: variable(text),
  GITHUB_TOKEN: variable(text),
  ADMIN_TOKEN: variable(text),
  LINKS_SECRET: variable(text),
  LINK_TTL: variable(duration(1, 366 * DAY)),
  GITHUB_URL: variable(httpUrl),
  GITHUB_CLIENT_ID: variable(
    matching(
      (id) => /^[A-Za-z0-9._-]{1,100}$/.test(id),
      'an OAuth client id (like Iv23li... or Ov23li...)',
      (raw) => raw.slice(0, 40),
    ),
  ),
  GITHUB_CLIENT_SECRET: variable(text),
  GITHUB_CLIENT_SECRET_FILE: variable(text),
  ADMIN_LOGINS: variable(
    list.transform(lowerCase).pipe(
      z.array(
        matching(
          (login) => GITHUB_LOGIN.test(login),
          'a GitHub login',
          (raw) => raw.slice(0, 60),
        ),
      ),
    ),
  ),
  SESSION_TTL: variable(duration(60, 366 * DAY)),
  GITHUB_APP_ID: variable(z.string().regex(/^\d+$|^Iv[0-9A-Za-z.]+$/, { error: 'must be the numeric App ID or the Client ID' })),
  GITHUB_APP_PRIVATE_KEY: variable(text),
  GITHUB_APP_PRIVATE_KEY_FILE: variable(text),
  GIT_ALLOWED_HOSTS: variable(list.transform(lowerCase).pipe(z.array(hostRule))),
  CUSTOMERS: variable(list.transform(lowerCase)),
  CUSTOMERS_FILE: variable(text),
  BUILD_BRANCH: variable(text),
  PREVIEW_BRANCHES: variable(previewBranches),
  PREVIEW_TTL: variable(duration(1, 366 * DAY)),
  OPENFAAS_URL: variable(httpUrl),
  OPENFAAS_USER: variable(text),
  OPENFAAS_PASSWORD: variable(text),
  BUILDKIT_ADDR: variable(
    matching((value) => /^tcp:\/\/[^/]+:\d+$/.test(value) || /^unix:\/\/\/.+/.test(value), 'tcp://host:port or unix:///path'),
  ),
  BUILDKIT_TLS_CA: variable(text),
  BUILDKIT_TLS_CERT: variable(text),
  BUILDKIT_TLS_KEY: variable(text),
  BUILDKIT_TLS_SERVER_NAME: variable(
    matching(
      (name) => /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/.test(name),
      'a host name like buildkitd.example',
      (raw) => raw.slice(0, 60),
    ),
  ),
  BUILDKIT_CONTEXT: variable(
    matching((raw) => ['session', 'http'].includes(raw.toLowerCase()), 'session or http').transform(
      (raw) => raw.toLowerCase() as 'session' | 'http',
    ),
  ),
  REGISTRY_AUTH_FILE: variable(text),
  REGISTRY: variable(
    matching((prefix) => /^[a-z0-9]([a-z0-9._:/-]*[a-z0-9/])?$/.test(prefix), 'an image prefix (lower-case host[:port][/path][/])'),
  ),
  REGISTRY_PULL: variable(
    matching((prefix) => /^[a-z0-9]([a-z0-9._:/-]*[a-z0-9/])?$/.test(prefix), 'an image prefix (lower-case host[:port][/path][/])'),
  ),
  REGISTRY_PULL_SECRET: variable(matching(isSecretName, 'a secret name (lower-case letters, digits, - and .)', (raw) => raw.slice(0, 60))),
  DEPLOY_READY_TIMEOUT: variable(duration(1, DAY)),
  BUILD_PLATFORMS: variable(
    list.pipe(
      z
        .array(matching((platform) => PLATFORM.test(platform), 'a platform like linux/amd64 or linux/arm/v7 (os/arch[/variant])'))
        .min(1, { error: 'names no platform' }),
    ),
  ),
  PUBLIC_URL: variable(httpUrl),
  GATEWAY_PUBLIC_URL: variable(httpUrl),
  ENABLE_DOCKERFILE_LANG: variable(boolean),
  MAX_FUNCTIONS_PER_REPO: variable(wholeNumber(1, 1000)),
  MAX_FUNCTION_MEMORY: variable(quantity(memoryQuantityBytes, 'a memory quantity like 512Mi or 2Gi')),
  MAX_FUNCTION_CPU: variable(quantity(cpuQuantityCores, 'a number of cores like 2, 1.5 or 500m')),
  MAX_EXEC_TIMEOUT: variable(
    matching((raw) => (parseWatchdogDuration(raw) ?? 0) >= 1000, 'a duration of at least 1s, like 300, 5m or 1h30m').transform((raw) =>
      parseWatchdogDuration(raw)!,
    ),
  ),
  SCALE_TO_ZERO_IDLE: variable(
    matching(
      (raw) => raw.toLowerCase() === 'off' || (parseWatchdogDuration(raw) ?? 0) >= 1000,
      'off or a duration of at least 1s, like 15m, 90s or 3600',
    ).transform((raw) => (raw.toLowerCase() === 'off' ? null : parseWatchdogDuration(raw)!)),
  ),
  BUILD_CONCURRENCY: variable(wholeNumber(1, 64)),
  BUILD_TIMEOUT: variable(wholeNumber(1, 86_400)),
  PIP_SOURCE_BUILDS: variable(boolean),
  MAX_BUILD_MB: variable(wholeNumber(1, 1_048_576)),
  TEMPLATES_DIR: variable(list),
  SANDBOX: variable(sandboxMode),
  SANDBOX_UID_BASE: variable(wholeNumber(1000, 4_294_000_000)),
  FETCH_CONCURRENCY: variable(wholeNumber(1, 64)),
  GIT_FETCH_TIMEOUT: variable(wholeNumber(1, 3600)),
  MAX_REPO_MB: variable(wholeNumber(1, 100_000)),
  MAX_REPO_FILES: variable(wholeNumber(1, 10_000_000)),
  MAX_HANDLER_MB: variable(wholeNumber(1, 10_000)),
  MAX_FUNCTIONS_PER_OWNER: variable(wholeNumber(1, 100_000)),
  MAX_BUILDS_PER_OWNER: variable(wholeNumber(1, 64)),
  MAX_IMAGES_MB: variable(wholeNumber(1, 10_000_000)),
  MAX_TEMPLATE_CACHE_MB: variable(wholeNumber(1, 10_000_000)),
});

/** Partitions and replication only mean something with brokers; without them they are not read at all. */
const withoutKafkaTuningUnlessBrokers = (env: unknown) => {
  if (typeof env !== 'object' || env === null) return env;
  const { KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR, ...rest } = env as Env;
  return (rest.KAFKA_BROKERS ?? '').trim() === '' ? rest : { ...rest, KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR };
};

const MB = 1024 * 1024;

/**
 * The environment of INTERFACE.md as a `Config`: each variable checked on its own, then the rules between them.
 * Folders are as written; `loadConfig` resolves them against the working directory.
 */
export const environmentSchema = z
  .preprocess(withoutKafkaTuningUnlessBrokers, variables.check(githubAppSettings, signInSettings, buildkitTlsSettings, registrySettings))
  .transform((env): Config => {
    const port = env.PORT ?? 8080;
    const gatewayPort = env.GATEWAY_PORT ?? 8081;
    const buildConcurrency = env.BUILD_CONCURRENCY ?? 2;
    const host = env.HOST ?? '127.0.0.1';
    const publicUrl = env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
    const github =
      env.GITHUB_CLIENT_ID === undefined
        ? null
        : {
            clientId: env.GITHUB_CLIENT_ID,
            clientSecret: env.GITHUB_CLIENT_SECRET ?? null,
            clientSecretFile: env.GITHUB_CLIENT_SECRET_FILE ?? null,
            webUrl: env.GITHUB_URL ?? 'https://github.com',
          };
    return {
      host,
      port,
      gatewayPort,
      healthPort: env.HEALTH_PORT ?? null,
      dataDir: env.DATA_DIR ?? './.faasline',
      databaseUrl: env.DATABASE_URL ?? null,
      kafka: env.KAFKA_BROKERS
        ? {
            brokers: env.KAFKA_BROKERS,
            topic: env.KAFKA_TOPIC ?? 'faasline.events',
            partitions: env.KAFKA_TOPIC_PARTITIONS ?? 6,
            replicationFactor: env.KAFKA_REPLICATION_FACTOR ?? 1,
          }
        : null,
      githubApiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
      githubWebhookSecret: env.GITHUB_WEBHOOK_SECRET ?? null,
      githubToken: env.GITHUB_TOKEN ?? null,
      adminToken: env.ADMIN_TOKEN ?? null,
      links: { secret: env.LINKS_SECRET ?? null, buildLogTtlMs: (env.LINK_TTL ?? 7 * DAY) * 1000 },
      githubApp:
        env.GITHUB_APP_ID === undefined
          ? null
          : {
              appId: env.GITHUB_APP_ID,
              privateKey: env.GITHUB_APP_PRIVATE_KEY ?? null,
              privateKeyFile: env.GITHUB_APP_PRIVATE_KEY_FILE ?? null,
            },
      signIn: {
        mode: github ? 'github' : isLoopback(host) && isLoopback(new URL(publicUrl).hostname) ? 'local' : 'off',
        github,
        adminLogins: env.ADMIN_LOGINS ?? [],
        sessionTtlMs: (env.SESSION_TTL ?? 7 * DAY) * 1000,
      },
      gitAllowedHosts: env.GIT_ALLOWED_HOSTS ?? ['github.com'],
      // On one machine (embedded storage) `faasline push` serves local repositories on loopback; a server does not.
      pushCloneHosts: env.GIT_ALLOWED_HOSTS === undefined && env.DATABASE_URL === undefined ? ['127.0.0.1:*'] : [],
      customers: env.CUSTOMERS ?? null,
      customersFile: env.CUSTOMERS_FILE ?? null,
      buildBranch: env.BUILD_BRANCH ?? null,
      previews: { branches: env.PREVIEW_BRANCHES ?? null, ttlMs: (env.PREVIEW_TTL ?? 7 * DAY) * 1000 },
      openfaasUrl: env.OPENFAAS_URL ?? null,
      openfaasUser: env.OPENFAAS_USER ?? 'admin',
      openfaasPassword: env.OPENFAAS_PASSWORD ?? null,
      buildkitAddr: env.BUILDKIT_ADDR ?? null,
      buildkitTls: env.BUILDKIT_TLS_CA
        ? {
            caFile: env.BUILDKIT_TLS_CA,
            certFile: env.BUILDKIT_TLS_CERT ?? null,
            keyFile: env.BUILDKIT_TLS_KEY ?? null,
            serverName: env.BUILDKIT_TLS_SERVER_NAME ?? null,
          }
        : null,
      buildkitContext: env.BUILDKIT_CONTEXT ?? 'session',
      registryAuthFile: env.REGISTRY_AUTH_FILE ?? null,
      registry: env.REGISTRY ?? 'local',
      registryPull: env.REGISTRY_PULL ?? null,
      registryPullSecret: env.REGISTRY_PULL_SECRET ?? null,
      deployReadyTimeoutMs: (env.DEPLOY_READY_TIMEOUT ?? 120) * 1000,
      buildPlatforms: env.BUILD_PLATFORMS ?? [],
      publicUrl,
      gatewayPublicUrl: env.GATEWAY_PUBLIC_URL ?? env.OPENFAAS_URL ?? `http://127.0.0.1:${gatewayPort}`,
      enableDockerfileLang: env.ENABLE_DOCKERFILE_LANG ?? false,
      maxFunctionsPerRepo: env.MAX_FUNCTIONS_PER_REPO ?? 20,
      maxFunctionMemory: env.MAX_FUNCTION_MEMORY ?? '1Gi',
      maxFunctionCpu: env.MAX_FUNCTION_CPU ?? '2',
      maxExecTimeoutMs: env.MAX_EXEC_TIMEOUT ?? 5 * 60_000,
      // OpenFaaS Pro's default for com.openfaas.scale.zero-duration.
      scaleToZeroIdleMs: env.SCALE_TO_ZERO_IDLE === undefined ? 15 * 60_000 : env.SCALE_TO_ZERO_IDLE,
      buildConcurrency,
      buildTimeoutMs: (env.BUILD_TIMEOUT ?? 600) * 1000,
      pipSourceBuilds: env.PIP_SOURCE_BUILDS ?? false,
      maxBuildBytes: (env.MAX_BUILD_MB ?? 1024) * MB,
      templatesDirs: env.TEMPLATES_DIR ?? [],
      sandbox: { mode: env.SANDBOX ?? 'auto', uidBase: env.SANDBOX_UID_BASE ?? 61000 },
      source: {
        concurrency: env.FETCH_CONCURRENCY ?? 4,
        fetchTimeoutMs: (env.GIT_FETCH_TIMEOUT ?? 120) * 1000,
        maxRepoBytes: (env.MAX_REPO_MB ?? 200) * MB,
        maxRepoFiles: env.MAX_REPO_FILES ?? 20_000,
        maxContextBytes: (env.MAX_HANDLER_MB ?? 25) * MB,
      },
      fairShare: {
        maxFunctionsPerOwner: env.MAX_FUNCTIONS_PER_OWNER ?? 50,
        // Half the build slots at most by default, so one owner's builds always leave room for another's.
        maxBuildsPerOwner: env.MAX_BUILDS_PER_OWNER ?? Math.max(1, Math.floor(buildConcurrency / 2)),
        maxImagesBytes: (env.MAX_IMAGES_MB ?? 10_240) * MB,
        maxTemplateCacheBytes: (env.MAX_TEMPLATE_CACHE_MB ?? 512) * MB,
      },
    };
  });

/** A GitHub App is an id and a key (inline or a file): one without the other is a mistake, not "no App". */
function githubAppSettings(context: z.core.ParsePayload<z.output<typeof variables>>): void {
  const { GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: privateKey, GITHUB_APP_PRIVATE_KEY_FILE: privateKeyFile } = context.value;
  const problem = (variable: string, message: string) =>
    context.issues.push({ code: 'custom', path: [variable], message, input: context.value });
  if (appId === undefined) {
    if (privateKey || privateKeyFile) problem('GITHUB_APP_ID', 'is required with GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE');
  } else if (!privateKey && !privateKeyFile) {
    problem('GITHUB_APP_PRIVATE_KEY', 'or GITHUB_APP_PRIVATE_KEY_FILE is required with GITHUB_APP_ID');
  } else if (privateKey && !privateKey.includes('PRIVATE KEY')) {
    problem('GITHUB_APP_PRIVATE_KEY', 'is not a PEM private key');
  }
}

/**
 * Signing in with GitHub needs the client id and its secret (inline or a file, not both): one without the other is a
 * mistake, not "no sign-in". GITHUB_URL only means something for signing in.
 */
function signInSettings(context: z.core.ParsePayload<z.output<typeof variables>>): void {
  const { GITHUB_CLIENT_ID: id, GITHUB_CLIENT_SECRET: secret, GITHUB_CLIENT_SECRET_FILE: secretFile } = context.value;
  const problem = (variable: string, message: string) =>
    context.issues.push({ code: 'custom', path: [variable], message, input: context.value });
  if (id === undefined) {
    if (secret || secretFile) problem('GITHUB_CLIENT_ID', 'is required with GITHUB_CLIENT_SECRET or GITHUB_CLIENT_SECRET_FILE');
  } else if (!secret && !secretFile) {
    problem('GITHUB_CLIENT_SECRET', 'or GITHUB_CLIENT_SECRET_FILE is required with GITHUB_CLIENT_ID');
  } else if (secret && secretFile) {
    problem('GITHUB_CLIENT_SECRET', 'and GITHUB_CLIENT_SECRET_FILE are both set: keep one');
  }
}

/**
 * TLS to BuildKit is all of a piece: a client certificate comes with its key, and any of it needs the CA that signed
 * the daemon's certificate (never the system roots: buildkitd's certificates come from a private CA) and a tcp://
 * daemon. Set but unusable is refused rather than ignored, so a daemon believed to be behind mTLS never gets plaintext.
 */
function buildkitTlsSettings(context: z.core.ParsePayload<z.output<typeof variables>>): void {
  const { BUILDKIT_ADDR: address, BUILDKIT_TLS_CA: ca, BUILDKIT_TLS_CERT: cert, BUILDKIT_TLS_KEY: key } = context.value;
  const serverName = context.value.BUILDKIT_TLS_SERVER_NAME;
  const problem = (variable: string, message: string) => {
    context.issues.push({ code: 'custom', path: [variable], message, input: context.value });
  };
  const set = (
    [
      ['BUILDKIT_TLS_CA', ca],
      ['BUILDKIT_TLS_CERT', cert],
      ['BUILDKIT_TLS_KEY', key],
      ['BUILDKIT_TLS_SERVER_NAME', serverName],
    ] as const
  ).filter(([, value]) => value !== undefined);
  if (set.length === 0) return;
  if (cert && !key) return problem('BUILDKIT_TLS_KEY', "is required with BUILDKIT_TLS_CERT (the client certificate's private key)");
  if (key && !cert) return problem('BUILDKIT_TLS_CERT', 'is required with BUILDKIT_TLS_KEY (the client certificate)');
  if (!ca) return problem('BUILDKIT_TLS_CA', `is required with ${set.map(([name]) => name).join(' and ')}`);
  if (!address?.startsWith('tcp://'))
    problem(
      set[0]![0],
      address
        ? `is only for a tcp:// BUILDKIT_ADDR, not ${address} (a unix socket is not TLS)`
        : 'is only for a tcp:// BUILDKIT_ADDR, which is unset',
    );
}

/**
 * REGISTRY_PULL renames REGISTRY for the gateway, so it needs a REGISTRY to rename; BUILD_PLATFORMS are BuildKit's
 * (the local builder builds for its own machine only), and a platform named twice is a typo.
 */
function registrySettings(context: z.core.ParsePayload<z.output<typeof variables>>): void {
  const { REGISTRY: registry, REGISTRY_PULL: pull, BUILD_PLATFORMS: platforms, BUILDKIT_ADDR: buildkit } = context.value;
  const problem = (variable: string, message: string) =>
    context.issues.push({ code: 'custom', path: [variable], message, input: context.value });
  if (pull !== undefined && registry === undefined) problem('REGISTRY_PULL', 'needs REGISTRY, the registry BuildKit pushes to');
  if (platforms === undefined) return;
  if (buildkit === undefined) problem('BUILD_PLATFORMS', 'needs BUILDKIT_ADDR: the local builder builds for this machine only');
  const twice = platforms.find((platform, i) => platforms.indexOf(platform) !== i);
  if (twice !== undefined) problem('BUILD_PLATFORMS', `names ${twice} twice`);
}
