import { describe, it } from '@jest/globals';
import { specFor } from '../spec.js';
import type { InstallationEvent, RepositoryRef } from '../events.js';
import { installationDecider, type InstallationCommand } from './installation.decider.js';

const given = specFor(installationDecider);
const account = { installationId: 7, account: 'Alexellis', accountId: 653013 };
const fn = (repo: string): RepositoryRef => ({ owner: 'Alexellis', repo, repositoryId: repo.length, private: false });

const created = (...repos: RepositoryRef[]): InstallationEvent => ({
  type: 'InstallationCreated',
  data: { ...account, repositories: repos },
});
const deleted = (...repos: RepositoryRef[]): InstallationEvent => ({
  type: 'InstallationDeleted',
  data: { ...account, repositories: repos },
});
const added = (ref: RepositoryRef): InstallationEvent => ({ type: 'RepositoryAdded', data: { installationId: 7, ...ref } });
const removed = (ref: RepositoryRef): InstallationEvent => ({ type: 'RepositoryRemoved', data: { installationId: 7, ...ref } });

const install = (...repos: RepositoryRef[]): InstallationCommand => ({
  type: 'RecordInstallation',
  data: { ...account, repositories: repos },
});
const uninstall = (): InstallationCommand => ({ type: 'RecordUninstallation', data: account });
const add = (...repos: RepositoryRef[]): InstallationCommand => ({
  type: 'AddRepositories',
  data: { installationId: 7, repositories: repos },
});
const remove = (...repos: RepositoryRef[]): InstallationCommand => ({
  type: 'RemoveRepositories',
  data: { installationId: 7, repositories: repos },
});

describe('installation decider', () => {
  it('records a new installation with its repositories', () =>
    given()
      .when(install(fn('fns')))
      .then(created(fn('fns'))));

  it('ignores a redelivered installation', () =>
    given(created(fn('fns')))
      .when(install(fn('fns')))
      .thenNothing());

  it('records a reinstallation after an uninstall', () =>
    given(created(fn('fns')), deleted(fn('fns')))
      .when(install(fn('fns')))
      .then(created(fn('fns'))));

  it('names every repository it knew when the App is uninstalled, so clean-up needs no other state', () =>
    given(created(fn('fns')), added(fn('api')))
      .when(uninstall())
      .then(deleted(fn('fns'), fn('api'))));

  it('uninstalls once', () => given(created(), deleted()).when(uninstall()).thenNothing());

  it('adds only repositories it does not have, case-insensitively', () =>
    given(created(fn('fns')))
      .when(add({ ...fn('FNS'), repo: 'FNS' }, fn('api')))
      .then(added(fn('api'))));

  it('does not forget a removed repository that is added again', () =>
    given(created(fn('fns')), removed(fn('fns')))
      .when(add(fn('fns')))
      .then(added(fn('fns'))));

  it('removes a repository it never saw added: its functions may predate the record', () =>
    given()
      .when(remove(fn('old')))
      .then(removed(fn('old'))));

  it('removes a repository once', () =>
    given(created(fn('fns')), removed(fn('fns')))
      .when(remove(fn('fns')))
      .thenNothing());

  it('forgets repositories of an uninstalled App', () =>
    given(created(fn('fns')), deleted(fn('fns')))
      .when(remove(fn('fns')))
      .thenNothing());
});
