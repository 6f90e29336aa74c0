import { describe, it } from '@jest/globals';
import type { OwnerEvent } from '../events.js';
import { specFor } from '../spec.js';
import { ownerDecider, type OwnerCommand } from './owner.decider.js';

const given = specFor(ownerDecider);
const token = { owner: 'Acme', tokenId: 't1' };
const issued: OwnerEvent = { type: 'OwnerTokenIssued', data: token };
const revoked: OwnerEvent = { type: 'OwnerTokenRevoked', data: token };
const issue: OwnerCommand = { type: 'IssueOwnerToken', data: token };
const revoke: OwnerCommand = { type: 'RevokeOwnerToken', data: token };

describe('owner decider: API tokens', () => {
  it('records a new token', () => given().when(issue).then(issued));
  it('records a retried issuance once', () => given(issued).when(issue).thenNothing());
  it('revokes an active token', () => given(issued).when(revoke).then(revoked));
  it('revokes a token once', () => given(issued, revoked).when(revoke).thenNothing());
  it('has nothing to revoke for a token it never issued', () => given().when(revoke).thenNothing());
});

const secretAt = (fingerprint: string, at: string, onGateway = true): OwnerCommand => ({
  type: 'SetSecret',
  data: { owner: 'Acme', name: 'api-key', fingerprint, source: 'push', deliveryId: 'd1', at, onGateway },
});
const secretSet = (fingerprint: string, at: string): OwnerEvent => ({
  type: 'SecretSet',
  data: { owner: 'Acme', name: 'api-key', secret: 'acme-api-key', fingerprint, source: 'push', deliveryId: 'd1', updatedAt: at },
});
const deleteSecret: OwnerCommand = { type: 'DeleteSecret', data: { owner: 'Acme', name: 'api-key' } };

describe('owner decider: secrets', () => {
  it('sets a new secret under the owner-prefixed name', () => given().when(secretAt('sha256:a', 't1')).then(secretSet('sha256:a', 't1')));
  it('leaves an unchanged sealed value alone', () => given(secretSet('sha256:a', 't1')).when(secretAt('sha256:a', 't2')).thenNothing());
  it('sets an unchanged value again when the gateway lost it', () =>
    given(secretSet('sha256:a', 't1'))
      .when(secretAt('sha256:a', 't2', false))
      .then(secretSet('sha256:a', 't2')));
  it('sets a changed value again', () =>
    given(secretSet('sha256:a', 't1')).when(secretAt('sha256:b', 't2')).then(secretSet('sha256:b', 't2')));
  it('deletes a secret it set', () =>
    given(secretSet('sha256:a', 't1'))
      .when(deleteSecret)
      .then({ type: 'SecretDeleted', data: { owner: 'Acme', name: 'api-key', secret: 'acme-api-key' } }));
  it('has nothing to delete for a secret it never set', () => given().when(deleteSecret).thenNothing());
  it('sets a secret again after it was deleted', () =>
    given(secretSet('sha256:a', 't1'), { type: 'SecretDeleted', data: { owner: 'Acme', name: 'api-key', secret: 'acme-api-key' } })
      .when(secretAt('sha256:a', 't3'))
      .then(secretSet('sha256:a', 't3')));
});
