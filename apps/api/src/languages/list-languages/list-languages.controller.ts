import { Controller, Get, Inject } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { apiSchema } from '../../queries/openapi-schema.js';
import { LanguageList } from './language.dto.js';
import { ListLanguagesQuery } from './list-languages.query.js';

/** `GET /api/v1/languages`: public, like OpenFaaS's template store; `faasline languages` prints it. */
@ApiTags('languages')
@Controller('api/v1/languages')
export class ListLanguagesController {
  constructor(@Inject(QueryBus) private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The languages a stack file may use, by name (the built-in templates and TEMPLATES_DIR)' })
  @ApiOkResponse({ schema: apiSchema(LanguageList) })
  list(): Promise<LanguageList> {
    return this.queries.execute(new ListLanguagesQuery());
  }
}
