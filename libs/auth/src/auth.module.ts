import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthGuard } from './auth.guard';
import { Authenticator, jwtConfigFromEnv } from './authenticator';
import { ApiTokenRepository } from './tokens/api-token.repository';
import { ApiTokenUseCases } from './tokens/api-token.usecases';
import { ApiTokensController } from './tokens/api-tokens.controller';
import { WhoAmIController } from './whoami.controller';
import { PrincipalDirectory } from './principals/principal-directory';
import { PrincipalsController } from './principals/principals.controller';

@Module({
  controllers: [ApiTokensController, WhoAmIController, PrincipalsController],
  providers: [
    { provide: ApiTokenRepository, inject: [DataSource], useFactory: (ds: DataSource) => new ApiTokenRepository(ds) },
    { provide: Authenticator, inject: [ApiTokenRepository], useFactory: (repo: ApiTokenRepository) => new Authenticator(repo, jwtConfigFromEnv()) },
    ApiTokenUseCases,
    PrincipalDirectory,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [Authenticator, ApiTokenUseCases, PrincipalDirectory],
})
export class AuthModule {}
