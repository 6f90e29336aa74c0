import { describe, expect, it } from '@jest/globals';
import type { FunctionSpec } from '../events.js';
import { alreadyDeployed, deploymentSignature, functionDeployment, ownedBy, secretHeldByAnother } from './deployment.js';
import type { PushContext } from '../events.js';

const spec: FunctionSpec = {
  function: 'fn1',
  name: 'alexellis-fn1',
  lang: 'node20',
  handler: 'fn1',
  image: 'i',
  fprocess: 'node index.js',
  contextDigest: 'sha256:x',
  contextBytes: 1,
  buildArgs: {},
  environment: { a: '1' },
  labels: { 'com.openfaas.scale.zero': 'true' },
  annotations: { topic: 't' },
  secrets: ['alexellis-db'],
  limits: {},
  requests: { cpu: '50m' },
  readOnlyRootFilesystem: true,
  constraints: [],
};
const push: PushContext = {
  deliveryId: 'd',
  owner: 'AlexEllis',
  repo: 'fns',
  branch: 'release/1.0',
  sha: 'a'.repeat(40),
  installationId: 7,
  pushSequence: 3,
  private: true,
  ownerId: 42,
  repositoryId: 43,
  cloneUrl: 'https://github.com/AlexEllis/fns.git',
};

describe('OpenFaaS Cloud deployment', () => {
  it('names the image pull secret among the secrets, unprefixed and once', () => {
    expect(functionDeployment(spec, push, 'reg/img:tag', new Date(), 'registry-secret').secrets).toEqual([
      'alexellis-db',
      'registry-secret',
    ]);
    expect(functionDeployment({ ...spec, secrets: ['registry-secret'] }, push, 'i', new Date(), 'registry-secret').secrets).toEqual([
      'registry-secret',
    ]);
  });

  it('carries the platform labels (valid Kubernetes labels), the repo annotation and a default memory limit', () => {
    const deployment = functionDeployment(spec, push, 'reg/img:tag', new Date(1_700_000_000_000));
    expect(deployment).toEqual({
      service: 'alexellis-fn1',
      image: 'reg/img:tag',
      envProcess: 'node index.js',
      envVars: { a: '1' },
      constraints: [],
      secrets: ['alexellis-db'],
      labels: {
        'com.openfaas.scale.zero': 'true',
        'com.openfaas.cloud.git-cloud': '1',
        'com.openfaas.cloud.git-owner': 'alexellis',
        'com.openfaas.cloud.git-owner-id': '42',
        'com.openfaas.cloud.git-repo': 'fns',
        'com.openfaas.cloud.git-sha': 'a'.repeat(40),
        'com.openfaas.cloud.git-branch': 'release-1.0',
        'com.openfaas.cloud.git-deploytime': '1700000000',
        'com.openfaas.cloud.git-private': '1',
        'com.openfaas.cloud.git-scm': 'github',
      },
      annotations: { topic: 't', 'com.openfaas.cloud.git-repo-url': 'https://github.com/AlexEllis/fns' },
      limits: { memory: '128Mi' },
      requests: { cpu: '50m' },
      readOnlyRootFilesystem: true,
    });
  });

  it('finds a deploy already on the gateway only by its name, image and commit', () => {
    const deployed = functionDeployment(spec, push, 'reg/img:tag', new Date());
    const live = [{ name: deployed.service, image: deployed.image, labels: deployed.labels }];
    expect(alreadyDeployed(live, 'alexellis-fn1', 'reg/img:tag', push.sha)).toBe(true);
    expect(alreadyDeployed(live, 'alexellis-fn1', 'reg/img:other', push.sha)).toBe(false);
    expect(alreadyDeployed(live, 'alexellis-fn1', 'reg/img:tag', 'b'.repeat(40))).toBe(false);
    expect(alreadyDeployed(live, 'alexellis-fn2', 'reg/img:tag', push.sha)).toBe(false);
    expect(alreadyDeployed([{ name: 'alexellis-fn1', image: 'reg/img:tag', labels: null }], 'alexellis-fn1', 'reg/img:tag', push.sha)).toBe(
      false,
    );
  });

  it('recognises only its own functions for an owner and repository', () => {
    const { labels } = functionDeployment(spec, push, 'i', new Date());
    expect(ownedBy(labels, 'alexellis', 'FNS')).toBe(true);
    expect(ownedBy(labels, 'someone', 'fns')).toBe(false);
    expect(ownedBy({ ...labels, 'com.openfaas.cloud.git-cloud': '0' }, 'alexellis', 'fns')).toBe(false);
    expect(ownedBy(null, 'alexellis', 'fns')).toBe(false);
  });

  describe('a secret name already mounted by another owner’s function', () => {
    const cloud = (owner: string, ownerId?: number) => ({
      'com.openfaas.cloud.git-cloud': '1',
      'com.openfaas.cloud.git-owner': owner,
      ...(ownerId === undefined ? {} : { 'com.openfaas.cloud.git-owner-id': String(ownerId) }),
    });
    const victimX = { owner: 'victim-x', ownerId: 9 };

    it('is refused to an owner whose prefixed name collides (victim + x-db, victim-x + db)', () =>
      expect(
        secretHeldByAnother(['victim-x-db'], victimX, [{ name: 'victim-x-api', labels: cloud('victim', 5), secrets: ['victim-x-db'] }]),
      ).toEqual({ secret: 'victim-x-db', owner: 'victim' }));

    it('stays the owner’s own, by id even after a rename, and by login for functions deployed before the id label', () => {
      expect(
        secretHeldByAnother(['victim-x-db'], victimX, [{ name: 'victim-x-web', labels: cloud('old-login', 9), secrets: ['victim-x-db'] }]),
      ).toBeNull();
      expect(
        secretHeldByAnother(['victim-x-db'], victimX, [{ name: 'victim-x-web', labels: cloud('victim-x'), secrets: ['victim-x-db'] }]),
      ).toBeNull();
      expect(
        secretHeldByAnother(['victim-x-db'], victimX, [{ name: 'victim-api', labels: cloud('victim'), secrets: ['victim-x-db'] }]),
      ).toEqual({ secret: 'victim-x-db', owner: 'victim' });
    });

    it('is free when nobody else mounts it, or only the operator’s own functions do', () => {
      expect(
        secretHeldByAnother(['victim-x-db'], victimX, [
          { name: 'victim-x-api', labels: cloud('victim', 5), secrets: ['victim-x-other'] },
          { name: 'n', labels: null },
        ]),
      ).toBeNull();
      expect(secretHeldByAnother(['victim-x-db'], victimX, [{ name: 'manual', labels: {}, secrets: ['victim-x-db'] }])).toBeNull();
    });
  });
});

describe('deployment signature: what a deploy would change on the gateway', () => {
  const noSecrets = { ...spec, secrets: [] };
  const signature = (
    changes: Partial<FunctionSpec> = {},
    at: Partial<PushContext> = {},
    image = 'reg/img:tag',
    pull: string | null = null,
  ) => deploymentSignature({ ...noSecrets, ...changes }, { ...push, ...at }, image, pull);

  it('is the same for another commit of the same function: only the commit labels differ', () =>
    expect(signature({}, { sha: 'b'.repeat(40), deliveryId: 'e', pushSequence: 4 })).toBe(signature()));

  it('is the same whatever order the stack file lists its maps in', () =>
    expect(signature({ environment: { b: '2', a: '1' } })).toBe(signature({ environment: { a: '1', b: '2' } })));

  it('changes with the image, the environment, labels, annotations, limits, the pull secret or the branch', () => {
    const variants = [
      signature({}, {}, 'reg/img:other'),
      signature({ environment: { a: '2' } }),
      signature({ labels: { 'com.openfaas.scale.zero': 'false' } }),
      signature({ annotations: { topic: 'u' } }),
      signature({ limits: { memory: '256Mi' } }),
      signature({}, {}, 'reg/img:tag', 'registry-secret'),
      signature({}, { branch: 'main' }),
      signature({ readOnlyRootFilesystem: false }),
    ];
    expect(new Set([signature(), ...variants]).size).toBe(variants.length + 1);
  });

  it('is none for a function that mounts secrets: their values may change under the same names', () =>
    expect(deploymentSignature(spec, push, 'reg/img:tag', null)).toBeNull());
});
