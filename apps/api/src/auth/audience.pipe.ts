import { createParamDecorator, Inject, Injectable, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { ADMIN_TOKEN } from '../tokens.js';
import { audienceOf, type Audience } from './audience.js';

/** Who asks a public read route: `admin` with `Authorization: Bearer <ADMIN_TOKEN>`, `anyone` otherwise. */
@Injectable()
export class AudiencePipe implements PipeTransform<string | undefined, Audience> {
  constructor(@Inject(ADMIN_TOKEN) private readonly adminToken: string) {}

  transform(authorization: string | undefined): Audience {
    return audienceOf(authorization, this.adminToken);
  }
}

type Request = { headers: Record<string, string | undefined> };
const Authorization = createParamDecorator(
  (_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<Request>().headers.authorization,
);

/** The route's Audience, so a controller needs neither the header nor the admin token. */
export const ReadAudience = () => Authorization(AudiencePipe);
