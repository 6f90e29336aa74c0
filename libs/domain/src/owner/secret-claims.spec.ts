import { describe, expect, it } from '@jest/globals';
import { CLOUD_LABEL } from '../pipeline/deployment.js';
import { secretClaimProblem } from './secret-claims.js';

const live = (owner: string, ownerId: string | null, secrets: string[]) => ({
  name: `${owner}-fn`,
  labels: {
    [`${CLOUD_LABEL}git-cloud`]: '1',
    [`${CLOUD_LABEL}git-owner`]: owner,
    ...(ownerId ? { [`${CLOUD_LABEL}git-owner-id`]: ownerId } : {}),
  },
  secrets,
});

describe('who may set an owner-prefixed secret', () => {
  it('lets an owner set a name nobody holds, or one it holds itself', () => {
    expect(secretClaimProblem('acme-key', { owner: 'acme', ownerId: 1 }, null, [])).toBeNull();
    expect(secretClaimProblem('acme-key', { owner: 'Acme', ownerId: 1 }, 'acme', [live('acme', '1', ['acme-key'])])).toBeNull();
  });

  it('never lets an owner take the image pull secret every deployment names, even mounted by its own functions only', () =>
    expect(
      secretClaimProblem(
        'registry-secret',
        { owner: 'registry', ownerId: 1 },
        null,
        [live('registry', '1', ['registry-secret'])],
        ['registry-secret'],
      ),
    ).toBe('secret name registry-secret is reserved by the platform: choose another name'));

  it('keeps a name another owner set through faasline for that owner', () =>
    expect(secretClaimProblem('acme-labs-key', { owner: 'acme', ownerId: 1 }, 'acme-labs', [])).toBe(
      'secret name acme-labs-key is held by GitHub owner acme-labs: choose another name',
    ));

  it("keeps a name another owner's live function mounts, by owner id when both are known, else by login", () => {
    expect(secretClaimProblem('acme-labs-key', { owner: 'acme', ownerId: 1 }, null, [live('acme-labs', '2', ['acme-labs-key'])])).toMatch(
      /used by GitHub owner acme-labs/,
    );
    expect(
      secretClaimProblem('acme-labs-key', { owner: 'acme', ownerId: null }, null, [live('acme-labs', '2', ['acme-labs-key'])]),
    ).toMatch(/used by GitHub owner acme-labs/);
    expect(secretClaimProblem('acme-key', { owner: 'acme', ownerId: null }, null, [live('acme', '1', ['acme-key'])])).toBeNull();
  });

  it("ignores the operator's own functions", () =>
    expect(
      secretClaimProblem('acme-key', { owner: 'acme', ownerId: 1 }, null, [{ name: 'op', labels: {}, secrets: ['acme-key'] }]),
    ).toBeNull());
});
