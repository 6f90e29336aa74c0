import { readFileSync } from 'node:fs';
import { Module } from '@nestjs/common';
import { ConfigError, GitHubOAuthClient, type Config } from '#infra';
import { CONFIG } from '#kernel';
import { OAUTH_CLIENT } from '../tokens.js';
import { MeController } from './me.controller.js';
import { SessionSweep } from './session-sweep.js';
import { SignInController } from './sign-in.controller.js';

/** The client secret, inline or from GITHUB_CLIENT_SECRET_FILE (read once, at start; a file that cannot be read stops it). */
function clientSecretOf(github: NonNullable<Config['signIn']['github']>): string {
  if (github.clientSecret !== null) return github.clientSecret;
  try {
    const secret = readFileSync(github.clientSecretFile!, 'utf8').trim();
    if (secret === '') throw new Error('the file is empty');
    return secret;
  } catch (error) {
    throw new ConfigError('GITHUB_CLIENT_SECRET_FILE', `cannot read ${github.clientSecretFile}: ${(error as Error).message}`);
  }
}

/** Signing in (GitHub OAuth, or the local session of a loopback-only install), signing out, and who is signed in. */
@Module({
  controllers: [SignInController, MeController],
  providers: [
    {
      provide: OAUTH_CLIENT,
      inject: [CONFIG],
      useFactory: ({ signIn: { github }, githubApiUrl }: Config) =>
        github === null
          ? null
          : new GitHubOAuthClient({ clientId: github.clientId, clientSecret: clientSecretOf(github), webUrl: github.webUrl, apiUrl: githubApiUrl }),
    },
    SessionSweep,
  ],
})
export class SignInModule {}
