import { z } from 'zod';
import { dateTime } from '../queries/openapi-schema.js';

export const buildStatuses = ['queued', 'running', 'succeeded', 'failed', 'reused', 'superseded'] as const;

/** One build of one function for one push: `GET /api/v1/functions/{name}/builds` and `GET /api/v1/builds/{id}`. */
export const BuildDto = z
  .object({
    id: z.string(),
    name: z.string().meta({ description: 'The function built (OpenFaaS service name)', example: 'alexellis-fn1' }),
    owner: z.string(),
    repo: z.string(),
    sha: z.string(),
    status: z.enum(buildStatuses).meta({ id: 'BuildStatus' }),
    image: z.string().nullable(),
    contextDigest: z.string().describe('sha256 of the build context: equal digests build equal images'),
    startedAt: dateTime.nullable(),
    finishedAt: dateTime.nullable(),
    durationMs: z.number().nullable(),
    reason: z.string().nullable().describe('Why the build failed'),
    deliveryId: z.string().describe('The webhook delivery of the push'),
    reusedBuildId: z.string().nullable().describe('For a reused build: the build whose image it reused'),
    supersededBy: z.string().nullable().describe('For a superseded build: the newer push that replaced it'),
    builder: z.enum(['buildkit', 'local']).nullable().describe('What built the image; null for builds recorded before faasline kept it'),
    imageDigest: z.string().nullable().describe("The registry's digest of the image, when the builder reported one"),
    platforms: z
      .array(z.string())
      .nullable()
      .meta({
        description: "The platforms the image was built for (BUILD_PLATFORMS); null: the builder's own",
        example: ['linux/amd64', 'linux/arm64'],
      }),
  })
  .meta({ id: 'BuildDto' });
export type BuildDto = z.output<typeof BuildDto>;
