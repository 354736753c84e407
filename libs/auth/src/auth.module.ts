import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthGuard } from './auth.guard';
import { Authenticator, jwtConfigFromEnv } from './authenticator';
import { ApiTokenRepository } from './tokens/api-token.repository';
import { ApiTokenUseCases } from './tokens/api-token.usecases';
import { ApiTokensController } from './tokens/api-tokens.controller';
import { WhoAmIController } from './whoami.controller';

@Module({
  controllers: [ApiTokensController, WhoAmIController],
  providers: [
    { provide: ApiTokenRepository, inject: [DataSource], useFactory: (ds: DataSource) => new ApiTokenRepository(ds) },
    { provide: Authenticator, inject: [ApiTokenRepository], useFactory: (repo: ApiTokenRepository) => new Authenticator(repo, jwtConfigFromEnv()) },
    ApiTokenUseCases,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [Authenticator, ApiTokenUseCases],
})
export class AuthModule {}
