import type { DataSource } from 'typeorm';
import { ReadFunction } from '../read-function.entity.js';
import { publicFunction, sliceOf, type Audience, type Slice } from '../visibility.js';
import type { FunctionsReadModel } from './functions.read-model.js';

export class PostgresFunctionsReadModel implements FunctionsReadModel {
  constructor(private readonly db: DataSource) {}

  async list(
    filter: Readonly<{ owner?: string; repo?: string }>,
    { limit, after, audience }: Readonly<{ limit: number; after?: string; audience: Audience }>,
  ): Promise<Slice<ReadFunction>> {
    const query = this.db
      .getRepository(ReadFunction)
      .createQueryBuilder('f')
      .orderBy('f.name', 'ASC')
      .limit(limit + 1);
    if (filter.owner !== undefined) query.andWhere('lower(f.owner) = lower(:owner)', { owner: filter.owner });
    if (filter.repo !== undefined) query.andWhere('lower(f.repo) = lower(:repo)', { repo: filter.repo });
    if (after !== undefined) query.andWhere('f.name > :after', { after });
    if (audience !== 'admin') query.andWhere(publicFunction);
    return sliceOf(await query.getMany(), limit);
  }

  named(name: string, audience: Audience): Promise<ReadFunction | null> {
    const query = this.db.getRepository(ReadFunction).createQueryBuilder('f').where('f.name = :name', { name });
    if (audience !== 'admin') query.andWhere(publicFunction);
    return query.getOne();
  }

  async deployEventOf(name: string): Promise<string | null | undefined> {
    const row = await this.db.getRepository(ReadFunction).findOneBy({ name });
    return row ? row.deployEventId : undefined;
  }
}
