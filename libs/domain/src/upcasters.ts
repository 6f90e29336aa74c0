import { currentSchemaVersions } from './events.js';

/** Turns the data of `type` at schemaVersion `from` into its shape at `from + 1`. */
export type Upcaster = Readonly<{ type: string; from: number; upcast: (data: unknown) => unknown }>;

export type StoredShape = Readonly<{ type: string; schemaVersion: number; data: unknown }>;

export type UpcastFn = (event: StoredShape) => StoredShape;

export class UnknownSchemaVersion extends Error {
  override readonly name = 'UnknownSchemaVersion';
}

/**
 * Builds the read-side upcasting function from single steps. Steps chain, so a v1 event written years ago is
 * read as v3 through v1→v2→v3; a missing step is an error at read time rather than a silently wrong shape.
 */
export function upcasterRegistry(
  upcasters: readonly Upcaster[],
  current: Readonly<Record<string, number>> = currentSchemaVersions,
): UpcastFn {
  const steps = new Map<string, Upcaster>();
  for (const step of upcasters) {
    const key = `${step.type}@${step.from}`;
    if (steps.has(key)) throw new Error(`two upcasters for ${step.type} v${step.from}`);
    steps.set(key, step);
  }
  return (event) => {
    const target = current[event.type];
    if (target === undefined || event.schemaVersion === target) return event;
    if (event.schemaVersion > target) {
      throw new UnknownSchemaVersion(`${event.type} v${event.schemaVersion} is newer than this build knows (v${target})`);
    }
    let { data, schemaVersion } = event;
    while (schemaVersion < target) {
      const step = steps.get(`${event.type}@${schemaVersion}`);
      if (!step) throw new UnknownSchemaVersion(`no upcaster for ${event.type} v${schemaVersion} → v${schemaVersion + 1}`);
      data = step.upcast(data);
      schemaVersion += 1;
    }
    return { type: event.type, schemaVersion, data };
  };
}

/** Every shape change of a stored event gets a step here. */
export const upcasters: readonly Upcaster[] = [
  // v2 records which builder built the image and the image's digest; nobody recorded either before.
  { type: 'BuildSucceeded', from: 1, upcast: (data) => ({ ...(data as object), builder: null, imageDigest: null }) },
  // v2 records the GitHub ids that hold the function name; v1 deploys knew only names, so they are compared by name.
  { type: 'FunctionDeployed', from: 1, upcast: (data) => ({ ...(data as object), ownerId: null, repositoryId: null }) },
  // v2 keeps the whole text of a description cut to 140 characters; v1 kept only the cut one.
  { type: 'CommitStatusReported', from: 1, upcast: (data) => ({ ...(data as object), detail: null }) },
];

export const upcast: UpcastFn = upcasterRegistry(upcasters);
