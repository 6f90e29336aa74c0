import { Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Actor } from '#domain';
import { ReplayAlreadyRunning, type ReplayReport } from '#projections';
import { AdminActor, AdminGuard } from '../../auth/admin.guard.js';
import { ApiAdmin } from '../../auth/api-admin.js';
import { apiSchema } from '../../queries/openapi-schema.js';
import { errorAnswer } from '../../queries/page.js';
import { ReadReplayQuery } from './read-replay.query.js';
import { ReplayDto, ReplayStartedDto } from './replay.dto.js';
import { StartReplayCommand } from './start-replay.command.js';

/**
 * `POST /api/v1/admin/replay`: rebuild every read model from position 0 beside the live ones, then swap them in
 * atomically; `GET /api/v1/admin/replay/{id}` follows it.
 */
@ApiTags('admin')
@ApiAdmin()
@UseGuards(AdminGuard)
@Controller('api/v1/admin/replay')
export class ReplayController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ schema: apiSchema(ReplayStartedDto) })
  @ApiConflictResponse(errorAnswer('A replay is already running'))
  async start(@AdminActor() actor: Actor): Promise<ReplayStartedDto> {
    try {
      return { id: await this.commands.execute<StartReplayCommand, string>(new StartReplayCommand(actor)) };
    } catch (error) {
      if (error instanceof ReplayAlreadyRunning) throw new HttpException({ message: error.message }, HttpStatus.CONFLICT);
      throw error;
    }
  }

  @Get(':id')
  @ApiOkResponse({ schema: apiSchema(ReplayDto) })
  @ApiNotFoundResponse(errorAnswer())
  async read(@Param('id') id: string): Promise<ReplayDto> {
    const report = await this.queries.execute<ReadReplayQuery, ReplayReport | null>(new ReadReplayQuery(id));
    if (report === null) throw new HttpException({ message: `no replay ${id}` }, HttpStatus.NOT_FOUND);
    return report;
  }
}
