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

@ObjectType({ description: 'Events an answer rests on, in one log: how many, and their positions (ascending; at most 10,000 listed).' })
export class RestsOn {
  @Field() log!: string;
  @Field(() => Int) events!: number;
  @Field(() => [Int]) positions!: number[];
}

@ObjectType()
export class DeidentificationCount {
  @Field() method!: string;
  @Field(() => Int) assets!: number;
}

@ObjectType({ description: 'Where a model version came from, as of a moment: every input, person and check, and the events it rests on.' })
export class ModelProvenance {
  @Field(() => LineageNode) modelVersion!: LineageNode;
  // annotationSets, datasetVersions, evaluations and promotions are Relay connections, paged by ModelProvenanceResolver.
  @Field(() => LineageNode, { nullable: true }) baseModel!: LineageNode | null;
  @Field(() => LineageNode, { nullable: true, description: 'The training run (method, hyperparameters, status).' }) training!: LineageNode | null;
  @Field(() => [String], { description: 'Principal ids of who requested the run.' }) requestedBy!: string[];
  @Field(() => LineageNode, { nullable: true, description: 'The consent-safe snapshot: included and excluded items and why, Merkle root, consent time.' })
  snapshot!: LineageNode | null;
  /** Annotation set versions, with agreement (a connection: ConsentImpactResolver pages it). */
  annotationSets!: LineageNode[];
  @Field(() => [String]) annotators!: string[];
  @Field(() => [String]) reviewers!: string[];
  datasetVersions!: LineageNode[];
  @Field(() => Int, { description: 'Curated assets in the snapshot.' }) assets!: number;
  @Field(() => Int) subjects!: number;
  @Field(() => Int, { description: "Consents recorded for those subjects (each consent's states say what was withdrawn and when)." }) consents!: number;
  @Field(() => [DeidentificationCount]) deidentification!: DeidentificationCount[];
  evaluations!: LineageNode[];
  promotions!: LineageNode[];
  @Field(() => [String]) approvers!: string[];
  @Field(() => [RestsOn]) restsOn!: RestsOn[];
}

@ObjectType({ description: "Everything a subject's data reached, as of a moment, with each model version's flag and aliases in its states." })
export class ConsentImpact {
  @Field(() => LineageNode) subject!: LineageNode;
  // The lists are Relay connections, paged by ConsentImpactResolver.
  consents!: LineageNode[];
  /** Raw and curated assets. */
  assets!: LineageNode[];
  datasetVersions!: LineageNode[];
  annotationSets!: LineageNode[];
  snapshots!: LineageNode[];
  trainingRuns!: LineageNode[];
  modelVersions!: LineageNode[];
}
