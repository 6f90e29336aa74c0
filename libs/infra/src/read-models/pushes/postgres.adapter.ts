import type { DataSource } from 'typeorm';
import { ReadPush } from '../read-push.entity.js';
import { sliceOf, type Audience, type Slice } from '../visibility.js';
import type { PushesReadModel } from './pushes.read-model.js';

export class PostgresPushesReadModel implements PushesReadModel {
  constructor(private readonly db: DataSource) {}

  async ofRepository(
    owner: string,
    repo: string,
    { limit, before, audience }: Readonly<{ limit: number; before?: number; audience: Audience }>,
  ): Promise<Slice<ReadPush>> {
    const query = this.db
      .getRepository(ReadPush)
      .createQueryBuilder('p')
      .where('lower(p.owner) = lower(:owner) AND lower(p.repo) = lower(:repo) AND p.seq IS NOT NULL', { owner, repo })
      .orderBy('p.seq', 'DESC')
      .limit(limit + 1);
    if (before !== undefined) query.andWhere('p.seq < :before', { before });
    // Unknown is not public: an ignored push does not say whether its repository is private.
    if (audience !== 'admin') query.andWhere('p.private = false');
    return sliceOf(await query.getMany(), limit);
  }
}
