import { describe, expect, it } from '@jest/globals';
import type { FaaslineEvent, SecretRef } from '../events.js';
import { workflowSpecFor } from '../spec.js';
import { fetchedData, functionSpec, pushData, recordedAt } from '../spec-fixtures.js';
import { fairShareGroup, pipelineWorkflow, type PipelineCommand, type PipelineEvent } from './pipeline.workflow.js';

const given = workflowSpecFor(pipelineWorkflow);

const recorded = (event: FaaslineEvent, streamVersion = 1): PipelineEvent => recordedAt(event, { streamVersion }) as PipelineEvent;

const sha = 'b'.repeat(40);
const push = recorded(
  {
    type: 'PushReceived',
    data: pushData(sha, {
      owner: 'Acme',
      ref: 'refs/heads/main',
      branch: 'main',
      cloneUrl: 'https://github.com/acme/fns.git',
      installationId: null,
      pusher: 'acme',
    }),
  },
  4,
);
const spec = (fn: string) =>
  functionSpec(fn, { owner: 'Acme', image: `local/acme/fns-${fn}:latest-main-bbbbbbb`, secrets: ['acme-api-key'] });
const apiKey: SecretRef = { name: 'api-key', secret: 'acme-api-key', fingerprint: 'sha256:f1' };
const fetched = (secrets: readonly SecretRef[] | undefined, functions = [spec('fn1'), spec('fn2')]) =>
  recorded({
    type: 'SourceFetched',
    data: fetchedData(sha, functions, { owner: 'Acme', branch: 'main', ...(secrets ? { secrets } : {}) }),
  });
const applied = recorded({ type: 'SecretsApplied', data: { deliveryId: 'd-1', owner: 'Acme', repo: 'fns', sha, secrets: [apiKey] } });
const refused = recorded({
  type: 'SecretsRejected',
  data: { deliveryId: 'd-1', owner: 'Acme', repo: 'fns', sha, reason: 'secret api-key cannot be opened with this server key' },
});

const types = (commands: PipelineCommand[]) =>
  commands.map((c) =>
    c.type === 'ReportStatus' ? `${c.context}:${c.state}` : c.type === 'Build' ? `${c.type}:${c.spec.function}` : c.type,
  );

describe('pipeline workflow: the sealed secrets of a push', () => {
  it('sets the secrets of secrets.yml before anything builds', () => {
    const commands = given(push)
      .when(fetched([apiKey]))
      .commands();
    expect(types(commands)).toEqual(['stack-deploy:pending', 'ApplySecrets']);
    expect(commands[0]).toMatchObject({ description: 'setting 1 secret(s), then building 2 function(s)' });
    expect(commands[1]).toEqual({ type: 'ApplySecrets', push: expect.objectContaining({ owner: 'Acme', sha }), secrets: [apiKey] });
    expect(fairShareGroup(commands[1]!)).toBe('owner:acme');
  });

  it('builds as before when the commit has no secrets.yml (or an empty one)', () => {
    expect(types(given(push).when(fetched(undefined)).commands())).toEqual(['stack-deploy:pending', 'Build:fn1', 'Build:fn2']);
    expect(types(given(push).when(fetched([])).commands())).toEqual(['stack-deploy:pending', 'Build:fn1', 'Build:fn2']);
  });

  it('sets no secret for a stack of which nothing can be built', () =>
    expect(
      types(
        given(push)
          .when(fetched([apiKey], []))
          .commands(),
      ),
    ).toEqual(['stack-deploy:failure']));

  it('builds every function once the secrets are set', () =>
    expect(
      types(
        given(push, fetched([apiKey]))
          .when(applied)
          .commands(),
      ),
    ).toEqual(['stack-deploy:pending', 'Build:fn1', 'Build:fn2']));

  it('fails the push, and each of its functions, when its secrets are refused: nothing builds', () => {
    const commands = given(push, fetched([apiKey]))
      .when(refused)
      .commands();
    expect(types(commands)).toEqual(['stack-deploy:failure', 'acme-fn1:failure', 'acme-fn2:failure']);
    expect(commands[0]).toMatchObject({ description: 'secret api-key cannot be opened with this server key' });
  });
});
