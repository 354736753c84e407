import { Args, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '@trellis/auth';
import { ModelUseCases } from '../models/model.usecases';
import { AliasHistory } from './alias-history.models';

/** "Which version was champion on date T, and who moved it there": the registry's alias history over GraphQL. */
@Resolver()
export class AliasHistoryResolver {
  constructor(private readonly models: ModelUseCases) {}

  @Query(() => AliasHistory, {
    description: "Every move of a registered model's aliases (or one alias) up to `at` (ISO 8601; default now), and the holder of each alias then.",
  })
  @Roles('engineer', 'approver', 'auditor')
  async aliasHistory(
    @Args('model') model: string,
    @Args('alias', { type: () => String, nullable: true }) alias: string | null,
    @Args('at', { type: () => String, nullable: true }) at: string | null,
  ): Promise<AliasHistory> {
    const h = await this.models.aliasHistory(model, alias ?? undefined, at ?? undefined);
    return { model, at, moves: h.moves, holders: Object.values(h.holders) };
  }
}
