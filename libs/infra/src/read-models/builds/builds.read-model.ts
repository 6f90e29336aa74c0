import type { ReadBuild } from '../read-build.entity.js';
import type { Audience, Slice } from '../visibility.js';

export const BUILDS_READ_MODEL = Symbol('BUILDS_READ_MODEL');

/** A build as the API answers it: times as ISO text, the function's service name as `name`. */
export type BuildView = Readonly<
  Pick<
    ReadBuild,
    | 'id'
    | 'owner'
    | 'repo'
    | 'sha'
    | 'status'
    | 'image'
    | 'contextDigest'
    | 'durationMs'
    | 'reason'
    | 'deliveryId'
    | 'reusedBuildId'
    | 'supersededBy'
    | 'builder'
    | 'imageDigest'
  > & {
    name: string;
    /** BUILD_PLATFORMS the image was built for; null: the builder's own. */
    platforms: string[] | null;
    startedAt: string | null;
    finishedAt: string | null;
  }
>;

/** What the API asks about builds. Builds of private repositories' pushes are answered only to an admin. */
export interface BuildsReadModel {
  /** A function's builds, newest first (by their first event's position); `before`: the last build of the previous page. */
  ofFunction(
    name: string,
    page: Readonly<{ limit: number; before?: BuildCursor; audience: Audience }>,
  ): Promise<Slice<BuildView & { seq: number }>>;
  byId(id: string, audience: Audience): Promise<BuildView | null>;
}

/** The sort key (seq, id) of a build in its function's list. */
export type BuildCursor = readonly [number, string];
