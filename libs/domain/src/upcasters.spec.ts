import { describe, expect, it } from '@jest/globals';
import { upcasterRegistry, UnknownSchemaVersion, upcast } from './upcasters.js';

const current = { BuildSucceeded: 3 };
const registry = upcasterRegistry(
  [
    { type: 'BuildSucceeded', from: 1, upcast: (data) => ({ ...(data as object), durationMs: 0 }) },
    { type: 'BuildSucceeded', from: 2, upcast: (data) => ({ ...(data as { image: string }), platform: 'linux/amd64' }) },
  ],
  current,
);

describe('upcasters', () => {
  it('chains steps from the stored version to the current one', () =>
    expect(registry({ type: 'BuildSucceeded', schemaVersion: 1, data: { image: 'x' } })).toEqual({
      type: 'BuildSucceeded',
      schemaVersion: 3,
      data: { image: 'x', durationMs: 0, platform: 'linux/amd64' },
    }));

  it('leaves current events alone', () => {
    const event = { type: 'BuildSucceeded', schemaVersion: 3, data: { image: 'x' } };
    expect(registry(event)).toBe(event);
  });

  it('refuses a version with no path to the current one', () =>
    expect(() => upcasterRegistry([], current)({ type: 'BuildSucceeded', schemaVersion: 2, data: {} })).toThrow(UnknownSchemaVersion));

  it('refuses events newer than this build', () =>
    expect(() => registry({ type: 'BuildSucceeded', schemaVersion: 4, data: {} })).toThrow(/newer than this build/));

  it('refuses two steps for one version', () =>
    expect(() =>
      upcasterRegistry([
        { type: 'A', from: 1, upcast: (d) => d },
        { type: 'A', from: 1, upcast: (d) => d },
      ]),
    ).toThrow());

  it('reads every event of the current catalogue as it is', () =>
    expect(upcast({ type: 'PushReceived', schemaVersion: 1, data: { sha: 'a' } })).toEqual({
      type: 'PushReceived',
      schemaVersion: 1,
      data: { sha: 'a' },
    }));

  it('reads a BuildSucceeded stored at v1 as v2: no builder or image digest was recorded then', () =>
    expect(upcast({ type: 'BuildSucceeded', schemaVersion: 1, data: { buildId: 'b1', image: 'img', durationMs: 5 } })).toEqual({
      type: 'BuildSucceeded',
      schemaVersion: 2,
      data: { buildId: 'b1', image: 'img', durationMs: 5, builder: null, imageDigest: null },
    }));
});

describe('FunctionDeployed v1 (names only)', () => {
  it('reads as v2 with no owner or repository id, so the function decider compares it by name', () =>
    expect(
      upcast({ type: 'FunctionDeployed', schemaVersion: 1, data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns' } }),
    ).toEqual({
      type: 'FunctionDeployed',
      schemaVersion: 2,
      data: { name: 'alexellis-fn1', owner: 'alexellis', repo: 'fns', ownerId: null, repositoryId: null },
    }));
});
