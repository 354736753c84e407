import { Args, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '@trellis/auth';
import { asOfDate } from '../graph/as-of';
import { AliasHistory } from './alias-history.models';
import { AliasHistoryQuery } from './alias-history.query';

/** "Which version was champion on date T, and who moved it there": alias history from the lineage graph. */
@Resolver()
export class AliasHistoryResolver {
  constructor(private readonly aliases: AliasHistoryQuery) {}

  @Query(() => AliasHistory, {
    description: "Every move of a registered model's aliases (or one alias) up to `at` (ISO 8601; default now), and the holder of each alias then.",
  })
  @Roles('engineer', 'approver', 'auditor')
  async aliasHistory(
    @Args('model') model: string,
    @Args('alias', { type: () => String, nullable: true }) alias: string | null,
    @Args('at', { type: () => String, nullable: true }) at: string | null,
  ): Promise<AliasHistory> {
    const h = await this.aliases.history(model, alias ?? null, asOfDate(at ?? null, 'at'));
    return { ...h, at: at ?? null };
  }
}
