import { z } from 'zod';

/** GitHub's rule for logins: letters, digits and single inner hyphens, at most 39 characters. */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

export const issueOwnerTokenBody = z
  .object({
    owner: z
      .string({ error: 'is required: the GitHub user or organisation the token speaks for' })
      .regex(GITHUB_LOGIN, {
        error: (issue) => `must be a GitHub login (letters, digits and inner "-", at most 39), not "${String(issue.input)}"`,
      })
      .meta({ example: 'alexellis' }),
  })
  .meta({ id: 'IssueOwnerTokenDto' });

export const IssuedOwnerTokenDto = z
  .object({
    token: z.string().describe('The token, shown this once: only its sha256 is kept.'),
    owner: z.string(),
    id: z.string().describe('Names the token in events and in DELETE /api/v1/admin/owner-tokens/{id}.'),
  })
  .meta({ id: 'IssuedOwnerTokenDto' });
