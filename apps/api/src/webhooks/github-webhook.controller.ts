import { createHash } from 'node:crypto';
import { Controller, Headers, HttpException, HttpStatus, Inject, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Webhooks } from '@octokit/webhooks';
import type { InstallationCommand } from '#domain';
import { withLogContext, type WebhookMetrics } from '#infra';
import { INGRESS_COUNTERS, WEBHOOK_SECRET } from '../tokens.js';
import type { z } from 'zod';
import {
  checkRunPayload,
  installationPayload,
  installationRepositoriesPayload,
  payloadProblem,
  pushPayload,
} from './github-payload.schema.js';
import { RecordInstallationChangeCommand } from './record-installation-change.command.js';
import { RecordPushCommand, type RecordOutcome } from './record-push.command.js';
import { RecordRerunCommand } from './record-rerun.command.js';

type RawRequest = FastifyRequest & { rawBody?: Buffer };

const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;

/**
 * `POST /webhooks/github`. The signature is checked over the raw bytes before anything is parsed; 202 is sent
 * only after the delivery's events are committed, so GitHub redelivers whatever we did not keep.
 */
@Controller('webhooks')
export class GithubWebhookController {
  private readonly webhooks: Webhooks;

  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(WEBHOOK_SECRET) secret: string,
    @Inject(INGRESS_COUNTERS) private readonly counters: WebhookMetrics,
  ) {
    this.webhooks = new Webhooks({ secret });
  }

  @Post('github')
  async receive(
    @Req() request: RawRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('x-github-event') event: string | undefined,
    @Headers('x-github-delivery') deliveryId: string | undefined,
    @Headers('x-hub-signature-256') signature: string | undefined,
  ): Promise<Record<string, unknown>> {
    // Decoded once: the signature is over these bytes and the payload is parsed from the same text.
    const text = (request.rawBody ?? Buffer.alloc(0)).toString('utf8');
    if (!signature || !(await this.verify(text, signature))) {
      this.counters.reject('signature');
      throw new HttpException(
        { message: signature ? 'X-Hub-Signature-256 does not match the payload' : 'X-Hub-Signature-256 is missing' },
        HttpStatus.UNAUTHORIZED,
      );
    }
    if (!event) return this.badRequest('X-GitHub-Event is missing');
    if (!deliveryId || !DELIVERY_ID.test(deliveryId)) return this.badRequest('X-GitHub-Delivery is missing or not a delivery id');
    const body = decodeBody(text, request.headers['content-type']);
    if (body === undefined) return this.badRequest('the body is not JSON');
    // The delivery id is the correlation id of everything the delivery causes: every line logged for it says so.
    return withLogContext({ correlationId: deliveryId, causationId: deliveryId }, () => this.handle(reply, event, deliveryId, text, body));
  }

  private async handle(
    reply: FastifyReply,
    event: string,
    deliveryId: string,
    text: string,
    body: unknown,
  ): Promise<Record<string, unknown>> {
    const receivedAt = new Date().toISOString();

    switch (event) {
      case 'ping':
        this.counters.accept('ping');
        reply.status(200);
        return { status: 'pong' };
      case 'push': {
        const push = this.valid(pushPayload, body);
        return this.answer(reply, await this.commands.execute(new RecordPushCommand({ ...push, deliveryId, receivedAt }, push.sender)));
      }
      case 'check_run': {
        // GitHub also tells the App of every check run it creates or completes: only the re-run button matters,
        // and only its body is held to the fields a re-run needs.
        const action = isRecord(body) && typeof body.action === 'string' ? body.action : '';
        if (action !== 'rerequested')
          return this.answer(reply, null, `check_run ${action.slice(0, 40) || 'without an action'} changes nothing here`);
        const { rerun } = this.valid(checkRunPayload, body);
        return this.answer(reply, await this.commands.execute(new RecordRerunCommand({ ...rerun, deliveryId, receivedAt })));
      }
      case 'installation': {
        const payload = this.valid(installationPayload, body);
        const account = { installationId: payload.installationId, account: payload.account, accountId: payload.accountId };
        const change: InstallationCommand | null =
          payload.action === 'created'
            ? { type: 'RecordInstallation', data: { ...account, repositories: payload.repositories } }
            : payload.action === 'deleted'
              ? { type: 'RecordUninstallation', data: account }
              : null;
        return this.answer(
          reply,
          change ? await this.record(deliveryId, text, payload.sender, change) : null,
          `installation ${payload.action} changes nothing here`,
        );
      }
      case 'installation_repositories': {
        const payload = this.valid(installationRepositoriesPayload, body);
        const repositories = payload.action === 'added' ? payload.added : payload.action === 'removed' ? payload.removed : null;
        const change: InstallationCommand | null = repositories
          ? {
              type: payload.action === 'added' ? 'AddRepositories' : 'RemoveRepositories',
              data: { installationId: payload.installationId, repositories },
            }
          : null;
        return this.answer(
          reply,
          change ? await this.record(deliveryId, text, payload.sender, change) : null,
          `installation_repositories ${payload.action} changes nothing here`,
        );
      }
      default:
        return this.answer(reply, null, `event ${event.slice(0, 40)} is not used by faasline`);
    }
  }

  private verify(text: string, signature: string): Promise<boolean> {
    return this.webhooks.verify(text, signature).catch(() => false);
  }

  /**
   * An installation change is keyed on what GitHub signed, not on the delivery id beside it: a captured body
   * replayed under a fresh `X-GitHub-Delivery` (say a `removed` after the repository was added back) is the
   * same change again and records nothing. The hash is over the text the signature was checked on, so bytes
   * that decode to the same text cannot make a second key.
   */
  private record(deliveryId: string, signedText: string, sender: string, change: InstallationCommand): Promise<RecordOutcome> {
    const bodySha256 = createHash('sha256').update(signedText, 'utf8').digest('hex');
    return this.commands.execute(new RecordInstallationChangeCommand(deliveryId, bodySha256, sender, change));
  }

  private answer(reply: FastifyReply, outcome: RecordOutcome | null, ignoredBecause?: string): Record<string, unknown> {
    if (outcome === null) {
      this.counters.accept('ignored');
      reply.status(200);
      return { status: 'ignored', reason: ignoredBecause };
    }
    this.counters.accept(outcome.status);
    reply.status(outcome.status === 'duplicate' ? 200 : 202);
    return { status: outcome.status, events: outcome.events };
  }

  private valid<T>(schema: z.ZodType<T>, body: unknown): T {
    const parsed = schema.safeParse(body);
    return parsed.success ? parsed.data : this.badRequest(payloadProblem(parsed.error));
  }

  private badRequest(message: string): never {
    this.counters.reject('payload');
    throw new HttpException({ message }, HttpStatus.BAD_REQUEST);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON, or GitHub's form encoding (`payload=<json>`) when a hook is configured that way. */
function decodeBody(text: string, contentType: string | undefined): unknown {
  try {
    if (contentType?.startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(text).get('payload');
      return payload === null ? undefined : JSON.parse(payload);
    }
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
