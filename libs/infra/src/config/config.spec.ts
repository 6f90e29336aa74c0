import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  it('runs embedded with nothing set', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({ port: 8080, gatewayPort: 8081, dataDir: '/srv/app/.faasline', databaseUrl: null, kafka: null });
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.gitAllowedHosts).toEqual(['github.com', '127.0.0.1:*']);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).gitAllowedHosts).toEqual(['github.com']);
  });

  it('reads Kafka brokers as a comma list with the default topic', () =>
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092, kafka-1:9092' }).kafka).toEqual({
      brokers: ['127.0.0.1:9092', 'kafka-1:9092'],
      topic: 'faasline.events',
      partitions: 6,
      replicationFactor: 1,
    }));

  it.each([
    [{ PORT: 'eighty' }, /^PORT: "eighty" is not a whole number/],
    [{ PORT: '70000' }, /^PORT: /],
    [{ DATABASE_URL: 'mysql://x/y' }, /^DATABASE_URL: must start with postgres:\/\//],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL: is not a URL/],
    [{ KAFKA_BROKERS: 'localhost' }, /^KAFKA_BROKERS: "localhost" is not host:port/],
    [{ KAFKA_TOPIC: 'bad topic' }, /^KAFKA_TOPIC: /],
    [{ ENABLE_DOCKERFILE_LANG: 'maybe' }, /^ENABLE_DOCKERFILE_LANG: "maybe" is not true or false/],
    [{ BUILD_CONCURRENCY: '0' }, /^BUILD_CONCURRENCY: /],
    [{ BUILDKIT_ADDR: 'localhost:1234' }, /^BUILDKIT_ADDR: /],
    [{ REGISTRY: 'Docker.io/Alex' }, /^REGISTRY: /],
    [{ GITHUB_APP_ID: '123' }, /^GITHUB_APP_PRIVATE_KEY: or GITHUB_APP_PRIVATE_KEY_FILE is required/],
    [{ GITHUB_APP_PRIVATE_KEY_FILE: '/k.pem' }, /^GITHUB_APP_ID: is required/],
    [{ GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: 'secret' }, /^GITHUB_APP_PRIVATE_KEY: is not a PEM private key/],
    [{ GIT_FETCH_TIMEOUT: '0' }, /^GIT_FETCH_TIMEOUT: /],
    [{ SANDBOX: 'maybe' }, /^SANDBOX: "maybe" is not auto, off or required/],
    [{ SANDBOX_UID_BASE: '0' }, /^SANDBOX_UID_BASE: /],
  ])('names the variable in one line for %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
