import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { BUILD_DTO_COLUMNS, type BuildDto } from '../build.dto.js';
import { ReadBuildQuery } from './read-build.query.js';

@QueryHandler(ReadBuildQuery)
export class ReadBuildHandler implements IQueryHandler<ReadBuildQuery, BuildDto | null> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ id }: ReadBuildQuery): Promise<BuildDto | null> {
    const [row] = await this.backbone.db.query(`SELECT ${BUILD_DTO_COLUMNS} FROM read_builds b WHERE b.id = $1`, [id]);
    return row ?? null;
  }
}
