import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: 'One move of an alias: where it went, from where, by whom and why.' })
export class AliasMove {
  @Field() alias!: string;
  @Field(() => Int, { nullable: true, description: 'The version it points to after the move; null when the move took it off the model.' }) version!:
    number | null;
  @Field(() => String, { nullable: true }) modelVersionId!: string | null;
  @Field(() => Int, { nullable: true }) previousVersion!: number | null;
  @Field({ description: 'promotion, rollback or demotion' }) kind!: string;
  @Field(() => String, { nullable: true }) promotionId!: string | null;
  @Field({ description: 'Pseudonymous principal id of who moved it (the approver, for a promotion).' }) movedBy!: string;
  @Field() reason!: string;
  @Field() movedAt!: string;
  @Field(() => Int, { description: 'Position of the AliasMoved event in the registry log.' }) position!: number;
}

@ObjectType({ description: "A model's alias moves up to a moment, and who held each alias then." })
export class AliasHistory {
  @Field() model!: string;
  @Field(() => String, { nullable: true, description: 'The moment asked about; null: now.' }) at!: string | null;
  @Field(() => [AliasMove]) moves!: AliasMove[];
  @Field(() => [AliasMove], { description: 'For each alias held at that moment, the move that put it there.' }) holders!: AliasMove[];
}
