import { createHash } from 'node:crypto';
import { Controller, Headers, HttpException, HttpStatus, Inject, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Webhooks } from '@octokit/webhooks';
import type { InstallationCommand } from '#domain';
import { INGRESS_COUNTERS, WEBHOOK_SECRET } from '../tokens.js';
import { parseInstallationPayload, parseInstallationRepositoriesPayload, parsePushPayload, type PayloadCheck } from './github-payload.dto.js';
import { RecordInstallationChangeCommand } from './record-installation-change.command.js';
import { RecordPushCommand, type RecordOutcome } from './record-push.command.js';
import type { WebhookCounters } from './webhook-counters.js';

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
    @Inject(INGRESS_COUNTERS) private readonly counters: WebhookCounters,
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
      throw new HttpException({ message: signature ? 'X-Hub-Signature-256 does not match the payload' : 'X-Hub-Signature-256 is missing' }, HttpStatus.UNAUTHORIZED);
    }
    if (!event) return this.badRequest('X-GitHub-Event is missing');
    if (!deliveryId || !DELIVERY_ID.test(deliveryId)) return this.badRequest('X-GitHub-Delivery is missing or not a delivery id');
    const body = decodeBody(text, request.headers['content-type']);
    if (body === undefined) return this.badRequest('the body is not JSON');
    const receivedAt = new Date().toISOString();

    switch (event) {
      case 'ping':
        this.counters.accept('ping');
        reply.status(200);
        return { status: 'pong' };
      case 'push': {
        const push = this.valid(parsePushPayload(body));
        return this.answer(reply, await this.commands.execute(new RecordPushCommand({ ...push, deliveryId, receivedAt }, push.sender)));
      }
      case 'installation': {
        const payload = this.valid(parseInstallationPayload(body));
        const account = { installationId: payload.installationId, account: payload.account, accountId: payload.accountId };
        const change: InstallationCommand | null =
          payload.action === 'created'
            ? { type: 'RecordInstallation', data: { ...account, repositories: payload.repositories } }
            : payload.action === 'deleted'
              ? { type: 'RecordUninstallation', data: account }
              : null;
        return this.answer(reply, change ? await this.record(deliveryId, text, payload.sender, change) : null, `installation ${payload.action} changes nothing here`);
      }
      case 'installation_repositories': {
        const payload = this.valid(parseInstallationRepositoriesPayload(body));
        const repositories = payload.action === 'added' ? payload.added : payload.action === 'removed' ? payload.removed : null;
        const change: InstallationCommand | null = repositories
          ? { type: payload.action === 'added' ? 'AddRepositories' : 'RemoveRepositories', data: { installationId: payload.installationId, repositories } }
          : null;
        return this.answer(reply, change ? await this.record(deliveryId, text, payload.sender, change) : null, `installation_repositories ${payload.action} changes nothing here`);
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

  private valid<T>(check: PayloadCheck<T>): T {
    if (!check.ok) this.badRequest(check.reason);
    return (check as { value: T }).value;
  }

  private badRequest(message: string): never {
    this.counters.reject('payload');
    throw new HttpException({ message }, HttpStatus.BAD_REQUEST);
  }
}

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
