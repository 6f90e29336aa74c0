import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadFunction, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { toFunctionDto, type FunctionDto } from '../function.dto.js';
import { ReadFunctionQuery } from './read-function.query.js';

@QueryHandler(ReadFunctionQuery)
export class ReadFunctionHandler implements IQueryHandler<ReadFunctionQuery, FunctionDto | null> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ name }: ReadFunctionQuery): Promise<FunctionDto | null> {
    const row = await this.backbone.db.getRepository(ReadFunction).findOneBy({ name });
    return row && toFunctionDto(row);
  }
}
