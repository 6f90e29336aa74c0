import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeGateway, violation, type FakeGateway, type Schema } from '../../../test/support/fake-openfaas.js';

/** The strict gateway fake is only worth its name if it refuses what OpenFaaS refuses: fed bad bodies here. */
describe('the fake gateway’s OpenAPI checker', () => {
  const deployment = { service: 'alexellis-fn', image: 'registry:5000/alexellis/fns-fn:latest' };
  const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

  it('accepts a well-formed deployment, status, scale request and secret', () => {
    expect(
      violation(
        { ...deployment, secrets: ['alexellis-db'], labels: { a: 'b' }, annotations: null, limits: { memory: '128Mi' } },
        ref('FunctionDeployment'),
      ),
    ).toBeNull();
    expect(
      violation(
        {
          name: 'fn',
          image: 'img',
          replicas: 1,
          availableReplicas: 0,
          invocationCount: 3,
          createdAt: '2026-01-01T00:00:00Z',
          usage: { cpu: 0.5, totalMemoryBytes: 1024 },
        },
        ref('FunctionStatus'),
      ),
    ).toBeNull();
    expect(violation({ serviceName: 'fn', namespace: 'openfaas-fn', replicas: 0 }, ref('ScaleServiceRequest'))).toBeNull();
    expect(violation({ name: 'key', rawValue: Buffer.from('secret').toString('base64') }, ref('Secret'))).toBeNull();
  });

  it.each([
    ['a missing required field', { image: 'img' }, 'FunctionDeployment', 'body.service is required'],
    ['an unknown field', { ...deployment, replicas: 1 }, 'FunctionDeployment', 'body.replicas is not in the API'],
    ['a string of the wrong type', { ...deployment, service: 1 }, 'FunctionDeployment', 'body.service must be a string'],
    ['null where not nullable', { ...deployment, envVars: null }, 'FunctionDeployment', 'body.envVars must not be null'],
    ['a map value of the wrong type', { ...deployment, labels: { a: 1 } }, 'FunctionDeployment', 'body.labels.a must be a string'],
    ['a number that is text', { name: 'fn', image: 'img', replicas: '1' }, 'FunctionStatus', 'body.replicas must be a number'],
    [
      'a number that is not finite',
      { name: 'fn', image: 'img', usage: { cpu: Number.NaN } },
      'FunctionStatus',
      'body.usage.cpu must be a number',
    ],
    [
      'a fraction where the format is integer',
      { name: 'fn', image: 'img', invocationCount: 1.5 },
      'FunctionStatus',
      'body.invocationCount must be an integer',
    ],
    [
      'a date that is not RFC 3339',
      { name: 'fn', image: 'img', createdAt: '1 Jan 2026' },
      'FunctionStatus',
      'body.createdAt must be a date-time',
    ],
    [
      'an integer that is a fraction',
      { serviceName: 'fn', namespace: 'openfaas-fn', replicas: 0.5 },
      'ScaleServiceRequest',
      'body.replicas must be an integer',
    ],
    [
      'an integer below its minimum',
      { serviceName: 'fn', namespace: 'openfaas-fn', replicas: -1 },
      'ScaleServiceRequest',
      'body.replicas must be at least 0',
    ],
    ['bytes that are not base64', { name: 'key', rawValue: 'not base64!' }, 'Secret', 'body.rawValue must be a byte'],
    ['a field of neither part of an allOf', { name: 'key', other: 'x' }, 'Secret', 'body.other is not in the API'],
    ['a release that is not semver', { sha: 'abc', release: 'latest' }, 'VersionInfo', 'body.release must be a semver'],
  ])('refuses %s', (_, body, schema, problem) => expect(violation(body, ref(schema))).toBe(problem));

  it('refuses a value outside an enum', () => {
    const state: Schema = { type: 'string', enum: ['ready', 'failed'] };
    expect(violation('ready', state)).toBeNull();
    expect(violation('done', state, 'body.state')).toBe('body.state must be one of "ready", "failed"');
  });
});

describe('the fake gateway', () => {
  let gateway: FakeGateway;
  const authorization = () => `Basic ${Buffer.from(`${gateway.user}:${gateway.password}`).toString('base64')}`;
  const deploy = async (method: 'POST' | 'PUT', body: object) => {
    const response = await fetch(`${gateway.url}/system/functions`, {
      method,
      headers: { authorization: authorization(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return `${response.status} ${await response.text()}`;
  };
  beforeAll(async () => {
    gateway = await startFakeGateway();
  });
  afterAll(() => gateway.close());

  it('refuses a deploy naming a secret it does not have, as faas-netes does, and takes it once the secret exists', async () => {
    const body = { service: 'alexellis-secretive', image: 'img', secrets: ['alexellis-db'] };
    expect(await deploy('POST', body)).toBe('400 unable to fetch secrets: secrets "alexellis-db" not found');
    gateway.secrets.add('alexellis-db');
    expect(await deploy('POST', body)).toBe('202 ');
    expect(await deploy('PUT', { ...body, secrets: ['alexellis-db', 'alexellis-other'] })).toBe(
      '400 unable update Deployment: alexellis-secretive.openfaas-fn, error: secrets "alexellis-other" not found',
    );
    expect(gateway.functions.get('alexellis-secretive')).toMatchObject({ secrets: ['alexellis-db'] });
  });

  it('answers the next deploy with an injected status, and only the next', async () => {
    const body = { service: 'alexellis-flaky', image: 'img' };
    gateway.failNextDeploy(503);
    expect(await deploy('POST', body)).toBe('503 injected failure');
    expect(gateway.functions.has('alexellis-flaky')).toBe(false);
    expect(await deploy('POST', body)).toBe('202 ');
    expect(gateway.functions.has('alexellis-flaky')).toBe(true);
  });
});
