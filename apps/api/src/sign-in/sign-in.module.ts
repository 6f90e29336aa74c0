import { Module } from '@nestjs/common';
import { clientSecretOf, GitHubOAuthClient, type Config } from '#infra';
import { CONFIG } from '#kernel';
import { OAUTH_CLIENT } from '../tokens.js';
import { MeController } from './me.controller.js';
import { SessionSweep } from './session-sweep.js';
import { SignInController } from './sign-in.controller.js';

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
          : new GitHubOAuthClient({
              clientId: github.clientId,
              clientSecret: clientSecretOf(github),
              webUrl: github.webUrl,
              apiUrl: githubApiUrl,
            }),
    },
    SessionSweep,
  ],
})
export class SignInModule {}
