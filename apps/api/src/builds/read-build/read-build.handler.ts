import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadBuild, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { toBuildDto, type BuildDto } from '../build.dto.js';
import { ReadBuildQuery } from './read-build.query.js';

@QueryHandler(ReadBuildQuery)
export class ReadBuildHandler implements IQueryHandler<ReadBuildQuery, BuildDto | null> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ id }: ReadBuildQuery): Promise<BuildDto | null> {
    const row = await this.backbone.db.getRepository(ReadBuild).findOneBy({ id });
    return row && toBuildDto(row);
  }
}
