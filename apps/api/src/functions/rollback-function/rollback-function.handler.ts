import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandRefused, fold, functionDecider, rollbackTarget, streamIds, type FunctionState } from '#domain';
import { BUILDS_READ_MODEL, buildOrigin, handleCommand, type Backbone, type BuildsReadModel, type HeldImages } from '#infra';
import { BACKBONE } from '#kernel';
import { HELD_IMAGES } from '../functions.tokens.js';
import { forbidden } from '../requester.js';
import { RollBackFunctionCommand } from './rollback-function.command.js';
import type { RollbackDto } from './rollback-function.dto.js';

/**
 * Records a rollback the function decider allows; the pipeline deploys it (FunctionRolledBack → the deploy step).
 * Throws CommandRefused for what the rules refuse, and 403 for a caller that may not manage the function's owner.
 */
@CommandHandler(RollBackFunctionCommand)
export class RollBackFunctionHandler implements ICommandHandler<RollBackFunctionCommand, RollbackDto> {
  constructor(
    @Inject(BACKBONE) private readonly backbone: Backbone,
    @Inject(HELD_IMAGES) private readonly images: HeldImages,
    @Inject(BUILDS_READ_MODEL) private readonly builds: BuildsReadModel,
  ) {}

  async execute({ name, to, reason, by }: RollBackFunctionCommand): Promise<RollbackDto> {
    const store = this.backbone.store;
    const streamId = streamIds.function(name);
    const { events } = await store.readStream(streamId);
    const state = fold(functionDecider, events);
    const owner = ownerOf(state);
    if (owner === null) throw new CommandRefused('not-found', `no function ${name}`);
    if (!by.mayManage(owner)) throw forbidden(name);
    const { target, current } = await this.target(state, name, to, by.mayManage);
    const origin = await buildOrigin(store, events, name, target.buildId);
    if (!origin) throw new CommandRefused('conflict', `the push build ${target.buildId} of ${name} was made from is not recorded`);
    const goneImages = (await this.images.holds(target.image)) ? [] : [target.image];
    await handleCommand(
      store,
      functionDecider,
      streamId,
      {
        type: 'RollBack',
        data: {
          name,
          buildId: target.buildId,
          reason,
          newestPushSequence: origin.newestPushSequence,
          goneImages,
          push: origin.push,
          spec: origin.spec,
        },
      },
      // Caused by the build it goes back to: provenance then follows the rollback on to the push that build was made from.
      { correlationId: randomUUID(), causationId: origin.builtEventId, actor: by.actor },
    );
    return {
      name,
      buildId: target.buildId,
      sha: target.sha,
      image: target.image,
      from: { buildId: current.buildId, sha: current.sha, image: current.image },
      reason,
      actor: by.actor,
    };
  }

  /** The build asked for; a build of another function is named only to a caller who may manage that one too. */
  private async target(
    state: FunctionState,
    name: string,
    to: Parameters<typeof rollbackTarget>[2],
    mayManage: (owner: string) => boolean,
  ) {
    try {
      return rollbackTarget(state, name, to);
    } catch (error) {
      if (!(error instanceof CommandRefused) || error.kind !== 'not-found' || !('buildId' in to)) throw error;
      const other = await this.builds.byId(to.buildId, 'admin');
      if (other && other.name !== name && mayManage(other.owner))
        throw new CommandRefused('conflict', `build ${to.buildId} is a build of ${other.name}, not of ${name}`);
      throw error;
    }
  }
}

/** Whose function this is: the deployed one's owner, else (never deployed) the owner of its last build. */
function ownerOf(state: FunctionState): string | null {
  return state.deployed?.owner ?? [...state.builds.values()].at(-1)?.owner ?? null;
}
