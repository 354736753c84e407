import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum LineageDirection {
  UPSTREAM = 'UPSTREAM',
  DOWNSTREAM = 'DOWNSTREAM',
  BOTH = 'BOTH',
}
registerEnumType(LineageDirection, {
  name: 'LineageDirection',
  description: 'UPSTREAM: what a node came from (PROV edges followed forward); DOWNSTREAM: what came from it.',
});

@ObjectType({ description: 'A PROV entity, activity or agent of the lineage graph, as of the moment asked.' })
export class LineageNode {
  @Field({ description: '`<type>:<natural id>`, e.g. model-version:<uuid>, subject:<uuid>, person:<principal id>.' }) id!: string;
  @Field({
    description:
      'subject, consent, asset, curated-asset, dataset-version, annotation-set, snapshot, checkpoint, base-model, model-version, evaluation; ingestion, deidentification, annotation, training, evaluation-run, promotion; person, service.',
  })
  type!: string;
  @Field({ description: 'entity, activity or agent' }) class!: string;
  @Field() label!: string;
  @Field({ description: 'Attributes as canonical JSON text.' }) attrs!: string;
  @Field({ description: 'Facts that change over time, as of the moment asked, as canonical JSON text (withdrawn purposes, a flag, an alias held, a status).' })
  states!: string;
  @Field({ description: 'When it became true (event time).' }) validFrom!: string;
  @Field({ description: 'The log of the event that recorded it.' }) log!: string;
  @Field(() => Int, { description: 'The position of that event in its log (hash-chained).' }) position!: number;
}

@ObjectType({
  description: 'A PROV relation: used, wasGeneratedBy, wasDerivedFrom, wasAssociatedWith, wasAttributedTo or actedOnBehalfOf, from the effect to its cause.',
})
export class LineageEdge {
  @Field() from!: string;
  @Field() type!: string;
  @Field() to!: string;
  @Field({ description: 'Attributes as canonical JSON text (e.g. the role of a person).' }) attrs!: string;
  @Field() validFrom!: string;
  @Field() log!: string;
  @Field(() => Int) position!: number;
}

@ObjectType()
export class LineageSubgraph {
  @Field(() => [LineageNode]) nodes!: LineageNode[];
  @Field(() => [LineageEdge]) edges!: LineageEdge[];
  @Field({ description: 'The walk stopped at the node limit before the depth asked for.' }) truncated!: boolean;
}
