import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { publicPush } from '../../queries/audience.js';
import { BUILD_DTO_COLUMNS, type BuildDto } from '../build.dto.js';
import { ReadBuildQuery } from './read-build.query.js';

@QueryHandler(ReadBuildQuery)
export class ReadBuildHandler implements IQueryHandler<ReadBuildQuery, BuildDto | null> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ id, audience }: ReadBuildQuery): Promise<BuildDto | null> {
    const visible = audience === 'admin' ? '' : `AND ${publicPush('b.delivery_id')}`;
    const [row] = await this.backbone.db.query(`SELECT ${BUILD_DTO_COLUMNS} FROM read_builds b WHERE b.id = $1 ${visible}`, [id]);
    return row ?? null;
  }
}
