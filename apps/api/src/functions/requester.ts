import { HttpException, HttpStatus } from '@nestjs/common';
import { CommandRefused, type Actor } from '#domain';

/** Who asks to change a function: the actor its events record, and whether it may manage an owner's functions. */
export type Requester = Readonly<{ actor: Actor; mayManage: (owner: string) => boolean }>;

/** A refused command as the API answers it: 404 when nothing has that name or id, 409 when the rules say no. */
export function refusalAnswer(error: unknown): unknown {
  if (!(error instanceof CommandRefused)) return error;
  return new HttpException({ message: error.message }, error.kind === 'not-found' ? HttpStatus.NOT_FOUND : HttpStatus.CONFLICT);
}

export const forbidden = (name: string) =>
  new HttpException({ message: `only an admin or the owner of ${name} may change it` }, HttpStatus.FORBIDDEN);
