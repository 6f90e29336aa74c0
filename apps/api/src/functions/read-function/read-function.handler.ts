import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadFunction, type Backbone } from '#infra';
import { BACKBONE } from '#projector';
import { publicFunction } from '../../queries/audience.js';
import { toFunctionDto, type FunctionDto } from '../function.dto.js';
import { ReadFunctionQuery } from './read-function.query.js';

@QueryHandler(ReadFunctionQuery)
export class ReadFunctionHandler implements IQueryHandler<ReadFunctionQuery, FunctionDto | null> {
  constructor(@Inject(BACKBONE) private readonly backbone: Backbone) {}

  async execute({ name, audience }: ReadFunctionQuery): Promise<FunctionDto | null> {
    const query = this.backbone.db.getRepository(ReadFunction).createQueryBuilder('f').where('f.name = :name', { name });
    if (audience !== 'admin') query.andWhere(publicFunction);
    const row = await query.getOne();
    return row && toFunctionDto(row);
  }
}
