import { ApiProperty } from '@nestjs/swagger';
import { z } from 'zod';

/** GitHub's rule for logins: letters, digits and single inner hyphens, at most 39 characters. */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

export const issueOwnerTokenBody = z.object({
  owner: z.string({ error: 'is required: the GitHub user or organisation the token speaks for' }).regex(GITHUB_LOGIN, {
    error: (issue) => `must be a GitHub login (letters, digits and inner "-", at most 39), not "${String(issue.input)}"`,
  }),
});

export class IssueOwnerTokenDto {
  @ApiProperty({ example: 'alexellis' }) owner!: string;
}

export class IssuedOwnerTokenDto {
  @ApiProperty({ description: 'The token, shown this once: only its sha256 is kept.' }) token!: string;
  @ApiProperty() owner!: string;
  @ApiProperty({ description: 'Names the token in events and in DELETE /api/v1/admin/owner-tokens/{id}.' }) id!: string;
}
