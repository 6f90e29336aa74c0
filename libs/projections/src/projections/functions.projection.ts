import { isFunctionEvent, withoutServerPaths, type FunctionEvent, type RecordedEvent } from '#domain';
import type { RowProjection } from './row-projection.js';

export type FunctionStatus = 'building' | 'deploying' | 'ready' | 'failed' | 'removed';

/** `GET /api/v1/functions`: a function as it is now. `sha`/`image` are the deployed version's once there is one. */
export type FunctionRow = Readonly<{
  name: string;
  owner: string;
  repo: string;
  function: string;
  image: string | null;
  sha: string;
  branch: string | null;
  status: FunctionStatus;
  endpoint: string | null;
  deployed_at: string | null;
  build_id: string | null;
  status_build_id: string | null;
  delivery_id: string | null;
  deploy_event_id: string | null;
  reason: string | null;
  updated_position: number;
}>;

export const functionsProjection: RowProjection<FunctionRow> = {
  table: 'functions',
  key: 'name',
  keyOf: (event) => (isFunctionEvent(event) ? (event as FunctionEvent).data.name : null),
  evolve: (stored, event) => {
    const { data } = event as RecordedEvent<FunctionEvent>;
    // A deployed name belongs to its owner and repository: another's refused build or deploy (same name, see the
    // function decider) does not change what the holder's row says. Only the holder can record a deploy.
    if (
      stored &&
      stored.deployed_at !== null &&
      stored.status !== 'removed' &&
      event.type !== 'FunctionDeployed' &&
      !sameRepository(stored, data)
    )
      return stored;
    const row: FunctionRow = {
      ...(stored ?? {
        name: data.name,
        owner: data.owner,
        repo: data.repo,
        function: ('function' in data ? data.function : undefined) ?? data.name.slice(data.owner.length + 1),
        image: null,
        sha: 'sha' in data ? data.sha : '',
        branch: ('branch' in data ? data.branch : undefined) ?? null,
        status: 'building',
        endpoint: null,
        deployed_at: null,
        build_id: null,
        status_build_id: null,
        delivery_id: null,
        deploy_event_id: null,
        reason: null,
      }),
      updated_position: event.metadata.globalPosition,
    };
    // Until a version is deployed, the function's sha is the one being built.
    const inProgress = (sha: string) => (row.deployed_at === null ? sha : row.sha);
    switch (event.type) {
      case 'BuildStarted':
        return { ...row, status: 'building', status_build_id: event.data.buildId, sha: inProgress(event.data.sha), reason: null };
      case 'BuildSucceeded':
      case 'BuildReused':
        return { ...row, status: 'deploying', status_build_id: event.data.buildId, sha: inProgress(event.data.sha), reason: null };
      case 'BuildFailed':
        return {
          ...row,
          status: 'failed',
          status_build_id: event.data.buildId,
          reason: `build failed: ${withoutServerPaths(event.data.reason)}`,
        };
      case 'DeployFailed':
        return {
          ...row,
          status: 'failed',
          status_build_id: event.data.buildId,
          reason: `deploy failed: ${withoutServerPaths(event.data.reason)}`,
        };
      case 'BuildSuperseded':
        // A newer push owns the function now; only if this build was the newest word does the status fall back.
        if (row.status_build_id !== event.data.buildId) return row;
        return row.image !== null && row.status !== 'removed'
          ? { ...row, status: 'ready', reason: null }
          : { ...row, status: 'failed', reason: `superseded by ${event.data.supersededBy.slice(0, 7)}` };
      case 'FunctionDeployed':
        return {
          ...row,
          owner: event.data.owner,
          repo: event.data.repo,
          function: event.data.function,
          status: 'ready',
          image: event.data.image,
          sha: event.data.sha,
          branch: event.data.branch,
          endpoint: event.data.endpoint,
          deployed_at: event.metadata.occurredAt,
          build_id: event.data.buildId,
          status_build_id: event.data.buildId,
          delivery_id: event.data.deliveryId,
          deploy_event_id: event.metadata.eventId,
          reason: null,
        };
      case 'FunctionRemoved':
        return { ...row, status: 'removed', reason: `removed: ${event.data.reason}${event.data.note ? ` (${event.data.note})` : ''}` };
      case 'FunctionRejected':
        // Refused at source: what runs (if anything) keeps running, and the row says why the push did not change it.
        return {
          ...row,
          status: 'failed',
          sha: inProgress(event.data.sha),
          status_build_id: event.metadata.eventId,
          reason: withoutServerPaths(event.data.reason),
        };
      case 'FunctionRolledBack':
        // Its deploy follows: until then it deploys the earlier build again.
        return { ...row, status: 'deploying', status_build_id: event.data.buildId, reason: null };
      default:
        return row;
    }
  },
};

const sameRepository = (row: FunctionRow, data: Readonly<{ owner: string; repo: string }>) =>
  row.owner.toLowerCase() === data.owner.toLowerCase() && row.repo.toLowerCase() === data.repo.toLowerCase();
