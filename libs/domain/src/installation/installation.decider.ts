import type { Command, Decider } from '../decider.js';
import type { InstallationEvent, RepositoryRef } from '../events.js';

type Account = { installationId: number; account: string; accountId: number };

export type InstallationCommand =
  | Command<'RecordInstallation', Account & { repositories: readonly RepositoryRef[] }>
  | Command<'RecordUninstallation', Account>
  | Command<'AddRepositories', { installationId: number; repositories: readonly RepositoryRef[] }>
  | Command<'RemoveRepositories', { installationId: number; repositories: readonly RepositoryRef[] }>;

export type InstallationState = Readonly<{
  status: 'unknown' | 'installed' | 'uninstalled';
  /** Repositories the App can see, by `owner/repo` lower-cased (GitHub names are case-insensitive). */
  repositories: ReadonlyMap<string, RepositoryRef>;
  /** Repositories we saw removed; removing one again changes nothing. */
  removed: ReadonlySet<string>;
}>;

const keyOf = (ref: RepositoryRef) => `${ref.owner}/${ref.repo}`.toLowerCase();

export const initialState = (): InstallationState => ({ status: 'unknown', repositories: new Map(), removed: new Set() });

export function evolve(state: InstallationState, event: InstallationEvent): InstallationState {
  switch (event.type) {
    case 'InstallationCreated':
      return {
        status: 'installed',
        repositories: new Map(event.data.repositories.map((ref) => [keyOf(ref), ref])),
        removed: new Set(),
      };
    case 'InstallationDeleted':
      return {
        status: 'uninstalled',
        repositories: new Map(),
        removed: new Set([...state.removed, ...state.repositories.keys()]),
      };
    case 'RepositoryAdded': {
      const removed = new Set(state.removed);
      removed.delete(keyOf(event.data));
      return { ...state, repositories: new Map(state.repositories).set(keyOf(event.data), stripInstallation(event.data)), removed };
    }
    case 'RepositoryRemoved': {
      const repositories = new Map(state.repositories);
      repositories.delete(keyOf(event.data));
      return { ...state, repositories, removed: new Set(state.removed).add(keyOf(event.data)) };
    }
  }
}

export function decide(command: InstallationCommand, state: InstallationState): InstallationEvent[] {
  switch (command.type) {
    case 'RecordInstallation':
      // GitHub redelivers; a second "created" for a live installation adds nothing.
      if (state.status === 'installed') return [];
      return [{ type: 'InstallationCreated', data: command.data }];
    case 'RecordUninstallation':
      if (state.status === 'uninstalled') return [];
      // The event carries the repositories so that clean-up needs no other state.
      return [{ type: 'InstallationDeleted', data: { ...command.data, repositories: [...state.repositories.values()] } }];
    case 'AddRepositories':
      return command.data.repositories
        .filter((ref) => !state.repositories.has(keyOf(ref)))
        .map((ref) => ({ type: 'RepositoryAdded', data: { installationId: command.data.installationId, ...ref } }));
    case 'RemoveRepositories':
      // A repository we never saw added may still have functions from before this installation was recorded.
      return command.data.repositories
        .filter((ref) => !state.removed.has(keyOf(ref)))
        .map((ref) => ({ type: 'RepositoryRemoved', data: { installationId: command.data.installationId, ...ref } }));
  }
}

function stripInstallation({ owner, repo, repositoryId, private: isPrivate }: RepositoryRef): RepositoryRef {
  return { owner, repo, repositoryId, private: isPrivate };
}

export const installationDecider: Decider<InstallationCommand, InstallationEvent, InstallationState> = {
  decide,
  evolve,
  initialState,
};
