import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  it('runs embedded with nothing set', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({ port: 8080, gatewayPort: 8081, dataDir: '/srv/app/.faasline', databaseUrl: null, kafka: null });
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
    // Loopback is for `faasline push`'s own clone URL only, never for template sources.
    expect(config.gitAllowedHosts).toEqual(['github.com']);
    expect(config.pushCloneHosts).toEqual(['127.0.0.1:*']);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' })).toMatchObject({ gitAllowedHosts: ['github.com'], pushCloneHosts: [] });
    expect(loadConfig({ GIT_ALLOWED_HOSTS: 'github.com,Git.Example:8443' })).toMatchObject({
      gitAllowedHosts: ['github.com', 'git.example:8443'],
      pushCloneHosts: [],
    });
  });

  it('limits builds to BUILD_TIMEOUT seconds (10 min unless set) and to wheels unless PIP_SOURCE_BUILDS', () => {
    expect(loadConfig({})).toMatchObject({ buildTimeoutMs: 600_000, pipSourceBuilds: false });
    expect(loadConfig({ BUILD_TIMEOUT: '90', PIP_SOURCE_BUILDS: 'true' })).toMatchObject({ buildTimeoutMs: 90_000, pipSourceBuilds: true });
    expect(() => loadConfig({ BUILD_TIMEOUT: '10m' })).toThrow(/^BUILD_TIMEOUT: "10m" is not a whole number from 1 to 86400$/);
    expect(() => loadConfig({ PIP_SOURCE_BUILDS: 'sometimes' })).toThrow(/^PIP_SOURCE_BUILDS: "sometimes" is not true or false$/);
  });

  it('limits a local build to MAX_BUILD_MB of disk (1 GB unless set)', () => {
    expect(loadConfig({}).maxBuildBytes).toBe(1024 * 2 ** 20);
    expect(loadConfig({ MAX_BUILD_MB: '200' }).maxBuildBytes).toBe(200 * 2 ** 20);
    expect(() => loadConfig({ MAX_BUILD_MB: '1G' })).toThrow(/^MAX_BUILD_MB: "1G" is not a whole number from 1 to 1048576$/);
  });

  it('leaves build slots for other owners by default: an owner gets half of BUILD_CONCURRENCY, at least one', () => {
    expect(loadConfig({}).fairShare).toEqual({
      maxFunctionsPerOwner: 50,
      maxBuildsPerOwner: 1,
      maxImagesBytes: 10_240 * 1024 * 1024,
      maxTemplateCacheBytes: 512 * 1024 * 1024,
    });
    expect(loadConfig({ BUILD_CONCURRENCY: '1' }).fairShare.maxBuildsPerOwner).toBe(1);
    expect(loadConfig({ BUILD_CONCURRENCY: '5' }).fairShare.maxBuildsPerOwner).toBe(2);
    expect(loadConfig({ BUILD_CONCURRENCY: '8', MAX_BUILDS_PER_OWNER: '8' }).fairShare.maxBuildsPerOwner).toBe(8);
  });

  it('caps what a stack file may ask for one function: 1Gi and 2 cores unless MAX_FUNCTION_MEMORY / MAX_FUNCTION_CPU say otherwise', () => {
    expect(loadConfig({})).toMatchObject({ maxFunctionMemory: '1Gi', maxFunctionCpu: '2' });
    expect(loadConfig({ MAX_FUNCTION_MEMORY: ' 512Mi ', MAX_FUNCTION_CPU: '500m' })).toMatchObject({
      maxFunctionMemory: '512Mi',
      maxFunctionCpu: '500m',
    });
    expect(loadConfig({ MAX_FUNCTION_MEMORY: '4G', MAX_FUNCTION_CPU: '1.5' })).toMatchObject({
      maxFunctionMemory: '4G',
      maxFunctionCpu: '1.5',
    });
    expect(() => loadConfig({ MAX_FUNCTION_MEMORY: '1GB' })).toThrow(
      /^MAX_FUNCTION_MEMORY: "1GB" is not a memory quantity like 512Mi or 2Gi$/,
    );
    expect(() => loadConfig({ MAX_FUNCTION_MEMORY: '0' })).toThrow(/^MAX_FUNCTION_MEMORY: /);
    expect(() => loadConfig({ MAX_FUNCTION_CPU: 'two' })).toThrow(/^MAX_FUNCTION_CPU: "two" is not a number of cores like 2, 1.5 or 500m$/);
    expect(() => loadConfig({ MAX_FUNCTION_CPU: '0m' })).toThrow(/^MAX_FUNCTION_CPU: /);
  });

  it('caps the timeouts a function may ask for at MAX_EXEC_TIMEOUT: 5 min unless set, as a duration or seconds', () => {
    expect(loadConfig({}).maxExecTimeoutMs).toBe(300_000);
    expect(loadConfig({ MAX_EXEC_TIMEOUT: '15m' }).maxExecTimeoutMs).toBe(900_000);
    expect(loadConfig({ MAX_EXEC_TIMEOUT: '90' }).maxExecTimeoutMs).toBe(90_000);
    expect(() => loadConfig({ MAX_EXEC_TIMEOUT: 'forever' })).toThrow(
      /^MAX_EXEC_TIMEOUT: "forever" is not a duration of at least 1s, like 300, 5m or 1h30m$/,
    );
    expect(() => loadConfig({ MAX_EXEC_TIMEOUT: '0' })).toThrow(/^MAX_EXEC_TIMEOUT: /);
  });

  it('signs in with GitHub given GITHUB_CLIENT_ID and its secret; without them, the browser on a loopback-only install is the admin', () => {
    expect(loadConfig({}).signIn).toEqual({ mode: 'local', github: null, adminLogins: [], sessionTtlMs: 7 * 24 * 3600_000 });
    expect(loadConfig({ PUBLIC_URL: 'https://faas.example.com' }).signIn.mode).toBe('off');
    expect(loadConfig({ HOST: '0.0.0.0' }).signIn.mode).toBe('off');
    expect(loadConfig({ PUBLIC_URL: 'http://localhost:9000' }).signIn.mode).toBe('local');
    const github = loadConfig({
      GITHUB_CLIENT_ID: 'Iv23liAbc',
      GITHUB_CLIENT_SECRET_FILE: '/run/secrets/client-secret',
      ADMIN_LOGINS: 'AlexEllis, octo-admin',
      SESSION_TTL: '12h',
    }).signIn;
    expect(github).toEqual({
      mode: 'github',
      github: { clientId: 'Iv23liAbc', clientSecret: null, clientSecretFile: '/run/secrets/client-secret', webUrl: 'https://github.com' },
      adminLogins: ['alexellis', 'octo-admin'],
      sessionTtlMs: 12 * 3600_000,
    });
    expect(
      loadConfig({ GITHUB_CLIENT_ID: 'Iv23liAbc', GITHUB_CLIENT_SECRET: 's', GITHUB_URL: 'https://ghe.example.com/' }).signIn.github,
    ).toMatchObject({ clientSecret: 's', webUrl: 'https://ghe.example.com' });
  });

  it('stops idle functions after SCALE_TO_ZERO_IDLE: 15 min unless set, as a duration or seconds, or never with off', () => {
    expect(loadConfig({}).scaleToZeroIdleMs).toBe(900_000);
    expect(loadConfig({ SCALE_TO_ZERO_IDLE: '5m' }).scaleToZeroIdleMs).toBe(300_000);
    expect(loadConfig({ SCALE_TO_ZERO_IDLE: '90' }).scaleToZeroIdleMs).toBe(90_000);
    expect(loadConfig({ SCALE_TO_ZERO_IDLE: 'OFF' }).scaleToZeroIdleMs).toBeNull();
    expect(() => loadConfig({ SCALE_TO_ZERO_IDLE: 'later' })).toThrow(
      /^SCALE_TO_ZERO_IDLE: "later" is not off or a duration of at least 1s, like 15m, 90s or 3600$/,
    );
    expect(() => loadConfig({ SCALE_TO_ZERO_IDLE: '500ms' })).toThrow(/^SCALE_TO_ZERO_IDLE: /);
  });

  it('reads Kafka brokers as a comma list with the default topic', () =>
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092, kafka-1:9092' }).kafka).toEqual({
      brokers: ['127.0.0.1:9092', 'kafka-1:9092'],
      topic: 'faasline.events',
      partitions: 6,
      replicationFactor: 1,
    }));

  it('reads KAFKA_TOPIC_PARTITIONS and KAFKA_REPLICATION_FACTOR only with brokers', () => {
    expect(loadConfig({ KAFKA_TOPIC_PARTITIONS: 'many', KAFKA_REPLICATION_FACTOR: '0' }).kafka).toBeNull();
    expect(loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_PARTITIONS: '3', KAFKA_REPLICATION_FACTOR: '2' }).kafka).toMatchObject({
      partitions: 3,
      replicationFactor: 2,
    });
    expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_PARTITIONS: 'many' })).toThrow(
      /^KAFKA_TOPIC_PARTITIONS: "many" is not a whole number from 1 to 1000$/,
    );
  });

  it('names only the first of several bad variables', () =>
    expect(() => loadConfig({ PORT: 'x', BUILD_CONCURRENCY: '0', SANDBOX: 'maybe' })).toThrow(
      /^PORT: "x" is not a whole number from 0 to 65535$/,
    ));

  it('keeps build log links 7 days unless LINK_TTL says otherwise, in seconds or with a unit', () => {
    expect(loadConfig({}).links).toEqual({ secret: null, buildLogTtlMs: 7 * 24 * 3600 * 1000 });
    expect(loadConfig({ LINKS_SECRET: 'k', LINK_TTL: '90' }).links).toEqual({ secret: 'k', buildLogTtlMs: 90_000 });
    expect(loadConfig({ LINK_TTL: '15m' }).links.buildLogTtlMs).toBe(900_000);
    expect(loadConfig({ LINK_TTL: '12h' }).links.buildLogTtlMs).toBe(12 * 3600 * 1000);
    expect(loadConfig({ LINK_TTL: '30d' }).links.buildLogTtlMs).toBe(30 * 24 * 3600 * 1000);
  });

  it('waits DEPLOY_READY_TIMEOUT (2 min unless set) for a deploy to be ready, in seconds or with a unit', () => {
    expect(loadConfig({}).deployReadyTimeoutMs).toBe(120_000);
    expect(loadConfig({ DEPLOY_READY_TIMEOUT: '3' }).deployReadyTimeoutMs).toBe(3000);
    expect(loadConfig({ DEPLOY_READY_TIMEOUT: '5m' }).deployReadyTimeoutMs).toBe(300_000);
  });

  it('pushes to REGISTRY and deploys from REGISTRY_PULL when set, naming REGISTRY_PULL_SECRET in every deployment', () => {
    expect(loadConfig({})).toMatchObject({ registry: 'local', registryPull: null, registryPullSecret: null });
    expect(
      loadConfig({ REGISTRY: 'registry.example.com:5000/', REGISTRY_PULL: 'registry.svc:5000/', REGISTRY_PULL_SECRET: 'registry-secret' }),
    ).toMatchObject({ registry: 'registry.example.com:5000/', registryPull: 'registry.svc:5000/', registryPullSecret: 'registry-secret' });
  });

  it('builds for BUILD_PLATFORMS with BuildKit, the daemon’s own platform unless set', () => {
    expect(loadConfig({}).buildPlatforms).toEqual([]);
    expect(
      loadConfig({ BUILDKIT_ADDR: 'tcp://buildkitd:1234', BUILD_PLATFORMS: 'linux/amd64, linux/arm64,linux/arm/v7' }).buildPlatforms,
    ).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
  });

  it('deploys previews only when PREVIEW_BRANCHES says which branches, kept 7 days unless PREVIEW_TTL says otherwise', () => {
    expect(loadConfig({}).previews).toEqual({ branches: null, ttlMs: 7 * 24 * 3600 * 1000 });
    expect(loadConfig({ PREVIEW_BRANCHES: 'false' }).previews.branches).toBeNull();
    expect(loadConfig({ PREVIEW_BRANCHES: 'true', PREVIEW_TTL: '2s' }).previews).toEqual({ branches: ['**'], ttlMs: 2000 });
    expect(loadConfig({ PREVIEW_BRANCHES: 'feature/*, fix-*' }).previews.branches).toEqual(['feature/*', 'fix-*']);
  });

  it('lends BuildKit the context over the session unless BUILDKIT_CONTEXT=http, and registry credentials from REGISTRY_AUTH_FILE', () => {
    expect(loadConfig({})).toMatchObject({ buildkitContext: 'session', registryAuthFile: null });
    expect(loadConfig({ BUILDKIT_CONTEXT: 'HTTP', REGISTRY_AUTH_FILE: ' /run/secrets/regcred/.dockerconfigjson ' })).toMatchObject({
      buildkitContext: 'http',
      registryAuthFile: '/run/secrets/regcred/.dockerconfigjson',
    });
  });

  it('talks TLS to a tcp:// BuildKit given BUILDKIT_TLS_CA, with a client certificate given _CERT and _KEY', () => {
    const tcp = { BUILDKIT_ADDR: 'tcp://buildkitd:1234' };
    expect(loadConfig(tcp).buildkitTls).toBeNull();
    expect(
      loadConfig({ ...tcp, BUILDKIT_TLS_CA: ' /certs/ca.pem ', BUILDKIT_TLS_CERT: '/certs/cert.pem', BUILDKIT_TLS_KEY: '/certs/key.pem' })
        .buildkitTls,
    ).toEqual({ caFile: '/certs/ca.pem', certFile: '/certs/cert.pem', keyFile: '/certs/key.pem', serverName: null });
    // A CA alone: the daemon is verified, and asks for no client certificate.
    expect(loadConfig({ ...tcp, BUILDKIT_TLS_CA: 'ca.pem', BUILDKIT_TLS_SERVER_NAME: 'buildkitd.builds.svc' }).buildkitTls).toEqual({
      caFile: 'ca.pem',
      certFile: null,
      keyFile: null,
      serverName: 'buildkitd.builds.svc',
    });
    // Blank is unset, as for every variable.
    expect(loadConfig({ ...tcp, BUILDKIT_TLS_CA: '', BUILDKIT_TLS_CERT: ' ', BUILDKIT_TLS_KEY: '' }).buildkitTls).toBeNull();
  });

  it.each([
    [{ BUILDKIT_TLS_CERT: 'c.pem' }, /^BUILDKIT_TLS_KEY: is required with BUILDKIT_TLS_CERT/],
    [{ BUILDKIT_TLS_CA: 'ca.pem', BUILDKIT_TLS_KEY: 'k.pem' }, /^BUILDKIT_TLS_CERT: is required with BUILDKIT_TLS_KEY/],
    [
      { BUILDKIT_TLS_CERT: 'c.pem', BUILDKIT_TLS_KEY: 'k.pem' },
      /^BUILDKIT_TLS_CA: is required with BUILDKIT_TLS_CERT and BUILDKIT_TLS_KEY$/,
    ],
    [{ BUILDKIT_TLS_SERVER_NAME: 'buildkitd' }, /^BUILDKIT_TLS_CA: is required with BUILDKIT_TLS_SERVER_NAME$/],
    [{ BUILDKIT_TLS_CA: 'ca.pem' }, /^BUILDKIT_TLS_CA: is only for a tcp:\/\/ BUILDKIT_ADDR, which is unset$/],
    [
      {
        BUILDKIT_ADDR: 'unix:///run/buildkit/buildkitd.sock',
        BUILDKIT_TLS_CA: 'ca.pem',
        BUILDKIT_TLS_CERT: 'c.pem',
        BUILDKIT_TLS_KEY: 'k.pem',
      },
      /^BUILDKIT_TLS_CA: is only for a tcp:\/\/ BUILDKIT_ADDR, not unix:\/\/\/run\/buildkit\/buildkitd\.sock \(a unix socket is not TLS\)$/,
    ],
    [
      { BUILDKIT_ADDR: 'tcp://b:1234', BUILDKIT_TLS_CA: 'ca.pem', BUILDKIT_TLS_SERVER_NAME: 'https://b' },
      /^BUILDKIT_TLS_SERVER_NAME: "https:\/\/b" is not a host name/,
    ],
    [{ PREVIEW_BRANCHES: 'feature/*,,x' }, /^PREVIEW_BRANCHES: "" is not true, false or a branch pattern/],
    [{ PREVIEW_BRANCHES: 'feat ure' }, /^PREVIEW_BRANCHES: "feat ure" is not true, false or a branch pattern/],
    [{ PREVIEW_TTL: 'a week' }, /^PREVIEW_TTL: "a week" is not a duration/],
    [{ LINK_TTL: 'forever' }, /^LINK_TTL: "forever" is not a duration/],
    [{ LINK_TTL: '0' }, /^LINK_TTL: /],
    [{ LINK_TTL: '400d' }, /^LINK_TTL: /],
    [{ PORT: 'eighty' }, /^PORT: "eighty" is not a whole number/],
    [{ PORT: '70000' }, /^PORT: /],
    [{ DATABASE_URL: 'mysql://x/y' }, /^DATABASE_URL: must start with postgres:\/\//],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL: is not a URL/],
    [{ KAFKA_BROKERS: 'localhost' }, /^KAFKA_BROKERS: "localhost" is not host:port/],
    [{ KAFKA_TOPIC: 'bad topic' }, /^KAFKA_TOPIC: /],
    [{ ENABLE_DOCKERFILE_LANG: 'maybe' }, /^ENABLE_DOCKERFILE_LANG: "maybe" is not true or false/],
    [{ BUILD_CONCURRENCY: '0' }, /^BUILD_CONCURRENCY: /],
    [{ BUILDKIT_ADDR: 'localhost:1234' }, /^BUILDKIT_ADDR: /],
    [{ BUILDKIT_CONTEXT: 'tarball' }, /^BUILDKIT_CONTEXT: "tarball" is not session or http/],
    [{ REGISTRY: 'Docker.io/Alex' }, /^REGISTRY: /],
    [{ GITHUB_APP_ID: '123' }, /^GITHUB_APP_PRIVATE_KEY: or GITHUB_APP_PRIVATE_KEY_FILE is required/],
    [{ GITHUB_APP_PRIVATE_KEY_FILE: '/k.pem' }, /^GITHUB_APP_ID: is required/],
    [{ GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: 'secret' }, /^GITHUB_APP_PRIVATE_KEY: is not a PEM private key/],
    [{ GIT_FETCH_TIMEOUT: '0' }, /^GIT_FETCH_TIMEOUT: /],
    [{ GITHUB_CLIENT_ID: 'Iv23li1' }, /^GITHUB_CLIENT_SECRET: or GITHUB_CLIENT_SECRET_FILE is required with GITHUB_CLIENT_ID$/],
    [{ GITHUB_CLIENT_SECRET: 's3cret' }, /^GITHUB_CLIENT_ID: is required with GITHUB_CLIENT_SECRET/],
    [
      { GITHUB_CLIENT_ID: 'Iv23li1', GITHUB_CLIENT_SECRET: 's3cret', GITHUB_CLIENT_SECRET_FILE: '/s' },
      /^GITHUB_CLIENT_SECRET: and GITHUB_CLIENT_SECRET_FILE are both set: keep one$/,
    ],
    [{ GITHUB_URL: 'github.com' }, /^GITHUB_URL: is not a URL/],
    [{ ADMIN_LOGINS: 'alex,not a login' }, /^ADMIN_LOGINS: "not a login" is not a GitHub login/],
    [{ SESSION_TTL: 'a week' }, /^SESSION_TTL: "a week" is not a duration/],
    [{ SESSION_TTL: '30' }, /^SESSION_TTL: "30" is not a duration from 60 s/],
    [
      { GIT_ALLOWED_HOSTS: 'github.com,https://gitlab.com/x' },
      /^GIT_ALLOWED_HOSTS: "https:\/\/gitlab.com\/x" is not host, host:port or host:\*/,
    ],
    [{ MAX_FUNCTIONS_PER_OWNER: '0' }, /^MAX_FUNCTIONS_PER_OWNER: /],
    [{ MAX_BUILDS_PER_OWNER: 'all' }, /^MAX_BUILDS_PER_OWNER: /],
    [{ MAX_IMAGES_MB: '-5' }, /^MAX_IMAGES_MB: /],
    [{ MAX_TEMPLATE_CACHE_MB: '1.5' }, /^MAX_TEMPLATE_CACHE_MB: /],
    [{ SANDBOX: 'maybe' }, /^SANDBOX: "maybe" is not auto, off or required/],
    [{ SANDBOX_UID_BASE: '0' }, /^SANDBOX_UID_BASE: /],
    [{ DEPLOY_READY_TIMEOUT: 'soon' }, /^DEPLOY_READY_TIMEOUT: "soon" is not a duration/],
    [{ REGISTRY_PULL: 'registry.svc:5000' }, /^REGISTRY_PULL: needs REGISTRY, the registry BuildKit pushes to$/],
    [{ REGISTRY: 'r:5000', REGISTRY_PULL: 'Registry.svc' }, /^REGISTRY_PULL: "Registry.svc" is not an image prefix/],
    [{ REGISTRY_PULL_SECRET: 'Registry_Secret' }, /^REGISTRY_PULL_SECRET: "Registry_Secret" is not a secret name/],
    [{ BUILDKIT_ADDR: 'tcp://b:1234', BUILD_PLATFORMS: 'linux' }, /^BUILD_PLATFORMS: "linux" is not a platform like linux\/amd64/],
    [
      { BUILDKIT_ADDR: 'tcp://b:1234', BUILD_PLATFORMS: 'linux/amd64;linux/arm64' },
      /^BUILD_PLATFORMS: "linux\/amd64;linux\/arm64" is not a platform/,
    ],
    [{ BUILDKIT_ADDR: 'tcp://b:1234', BUILD_PLATFORMS: 'linux/amd64,linux/amd64' }, /^BUILD_PLATFORMS: names linux\/amd64 twice$/],
    [{ BUILD_PLATFORMS: 'linux/arm64' }, /^BUILD_PLATFORMS: needs BUILDKIT_ADDR: /],
  ])('names the variable in one line for %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
