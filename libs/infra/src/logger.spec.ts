import { describe, expect, it } from '@jest/globals';
import { frameworkLogger, jsonLogger, withLogContext } from './logger.js';

const capture = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } };
};

describe('jsonLogger', () => {
  it('writes one JSON line per call with its component, level and message', () => {
    const { lines, destination } = capture();
    jsonLogger('api', destination).warn('sandbox: off');
    expect(lines).toEqual([{ level: 'warn', time: expect.any(String), pid: process.pid, component: 'api', msg: 'sandbox: off' }]);
  });

  it('adds the context of the work in progress to every line, across awaits, and only inside it', async () => {
    const { lines, destination } = capture();
    const logger = jsonLogger('api', destination);
    await withLogContext({ correlationId: 'delivery-1', causationId: 'event-1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await withLogContext({ step: 'build', job: 'build:1' }, async () => logger.info('inner'));
      logger.info('outer');
    });
    logger.info('after');
    expect(lines.map(({ msg, correlationId, causationId, step, job }) => ({ msg, correlationId, causationId, step, job }))).toEqual([
      { msg: 'inner', correlationId: 'delivery-1', causationId: 'event-1', step: 'build', job: 'build:1' },
      { msg: 'outer', correlationId: 'delivery-1', causationId: 'event-1', step: undefined, job: undefined },
      { msg: 'after', correlationId: undefined, causationId: undefined, step: undefined, job: undefined },
    ]);
  });

  it('never writes a credential of a logged configuration or request', () => {
    const { lines, destination } = capture();
    const config = {
      adminToken: 'v-admin',
      githubWebhookSecret: 'v-hook',
      openfaasPassword: 'v-password',
      githubApp: { appId: '1', privateKey: 'v-pem' },
      port: 8080,
    };
    jsonLogger('api', destination).info('configured', { config, headers: { authorization: 'Bearer v-bearer' }, token: 'v-token' });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('v-');
    expect(lines[0]).toMatchObject({
      config: { port: 8080, githubApp: { appId: '1', privateKey: '[redacted]' }, adminToken: '[redacted]' },
      token: '[redacted]',
    });
  });
});

describe('frameworkLogger', () => {
  it('writes the framework’s errors with their stack and context, and drops its chatter', () => {
    const { lines, destination } = capture();
    const nest = frameworkLogger(jsonLogger('api', destination));
    nest.log('Mapped {/healthz, GET} route', 'RouterExplorer');
    nest.error('boom', 'Error: boom\n    at x', 'ExceptionsHandler');
    nest.warn('deprecated', 'NestFactory');
    expect(lines.map(({ level, msg, stack, context }) => ({ level, msg, stack, context }))).toEqual([
      { level: 'error', msg: 'boom', stack: 'Error: boom\n    at x', context: 'ExceptionsHandler' },
      { level: 'warn', msg: 'deprecated', stack: undefined, context: 'NestFactory' },
    ]);
  });
});
