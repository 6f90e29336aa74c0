import type { Command, Decider } from '../decider.js';
import type {
  BuildFailed,
  BuildReused,
  BuildStarted,
  BuildSucceeded,
  BuildSuperseded,
  DeployFailed,
  FunctionDeployed,
  FunctionRemoved,
} from '../events.js';

export type FunctionEvent =
  | BuildStarted
  | BuildSucceeded
  | BuildReused
  | BuildFailed
  | BuildSuperseded
  | FunctionDeployed
  | DeployFailed
  | FunctionRemoved;

/** What a function stream holds, at run time: readers pick a function's events out of the whole log with it. */
export const functionEventTypes: ReadonlySet<string> = new Set<FunctionEvent['type']>([
  'BuildStarted',
  'BuildSucceeded',
  'BuildReused',
  'BuildFailed',
  'BuildSuperseded',
  'FunctionDeployed',
  'DeployFailed',
  'FunctionRemoved',
]);

type BuildRef = BuildStarted['data'];

export type FunctionCommand =
  | Command<'StartBuild', BuildRef>
  | Command<'CompleteBuild', BuildSucceeded['data']>
  | Command<'FailBuild', BuildFailed['data']>
  | Command<'Deploy', FunctionDeployed['data'] & { contextDigest: string; newestPushSequence: number; newestSha: string }>
  | Command<'FailDeploy', DeployFailed['data']>
  | Command<'Remove', FunctionRemoved['data']>;

export type FunctionState = Readonly<{
  /** Images of successful builds by context digest: an equal digest reuses the image instead of building. */
  images: ReadonlyMap<string, Readonly<{ image: string; buildId: string }>>;
  deployed: Readonly<{ repo: string; pushSequence: number; sha: string; image: string }> | null;
  removed: boolean;
}>;

export const initialState = (): FunctionState => ({ images: new Map(), deployed: null, removed: false });

export function evolve(state: FunctionState, event: FunctionEvent): FunctionState {
  switch (event.type) {
    case 'BuildSucceeded':
      return { ...state, images: new Map(state.images).set(event.data.contextDigest, { image: event.data.image, buildId: event.data.buildId }) };
    case 'FunctionDeployed':
      return { ...state, deployed: { repo: event.data.repo, pushSequence: event.data.pushSequence, sha: event.data.sha, image: event.data.image }, removed: false };
    case 'FunctionRemoved':
      return { ...state, removed: true };
    default:
      return state;
  }
}

/**
 * One function's builds and deploys. Unchanged code is never rebuilt; an older push never replaces a newer
 * one, however late its build finishes (GitHub delivers in any order and builds take different times).
 */
export function decide(command: FunctionCommand, state: FunctionState): FunctionEvent[] {
  switch (command.type) {
    case 'StartBuild': {
      const earlier = state.images.get(command.data.contextDigest);
      if (earlier) return [{ type: 'BuildReused', data: { ...command.data, image: earlier.image, reusedBuildId: earlier.buildId } }];
      return [{ type: 'BuildStarted', data: command.data }];
    }
    case 'CompleteBuild':
      return [{ type: 'BuildSucceeded', data: command.data }];
    case 'FailBuild':
      return [{ type: 'BuildFailed', data: command.data }];
    case 'Deploy': {
      const { contextDigest, newestPushSequence, newestSha, ...deployed } = command.data;
      // `<owner>-<key>` is one OpenFaaS service: a second repository of the owner may not take it over.
      if (state.deployed && !state.removed && state.deployed.repo.toLowerCase() !== deployed.repo.toLowerCase()) {
        const { name, owner, repo, sha, buildId } = deployed;
        const reason = `function name ${name} is already deployed from ${owner}/${state.deployed.repo}: rename the function in stack.yml`;
        return [{ type: 'DeployFailed', data: { name, owner, repo, sha, buildId, reason: reason.slice(0, 140) } }];
      }
      // Push sequences are per repository, so they are only compared within the same one (checked above).
      const newer = newestPushSequence > deployed.pushSequence ? newestSha : state.deployed && state.deployed.pushSequence > deployed.pushSequence ? state.deployed.sha : null;
      if (newer !== null) {
        const { name, owner, repo, sha, buildId, image } = deployed;
        return [{ type: 'BuildSuperseded', data: { buildId, name, owner, repo, sha, contextDigest, image, supersededBy: newer } }];
      }
      return [{ type: 'FunctionDeployed', data: deployed }];
    }
    case 'FailDeploy':
      return [{ type: 'DeployFailed', data: command.data }];
    case 'Remove':
      return state.removed ? [] : [{ type: 'FunctionRemoved', data: command.data }];
  }
}

export const functionDecider: Decider<FunctionCommand, FunctionEvent, FunctionState> = { decide, evolve, initialState };
