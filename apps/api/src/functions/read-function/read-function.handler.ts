import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { FUNCTIONS_READ_MODEL, type FunctionsReadModel } from '#infra';
import { toFunctionDto, type FunctionDto } from '../function.dto.js';
import { ReadFunctionQuery } from './read-function.query.js';

@QueryHandler(ReadFunctionQuery)
export class ReadFunctionHandler implements IQueryHandler<ReadFunctionQuery, FunctionDto | null> {
  constructor(@Inject(FUNCTIONS_READ_MODEL) private readonly functions: FunctionsReadModel) {}

  async execute({ name, audience }: ReadFunctionQuery): Promise<FunctionDto | null> {
    const row = await this.functions.named(name, audience);
    return row && toFunctionDto(row);
  }
}
