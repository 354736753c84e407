import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: 'One event of a log, as stored (personal data never enters events).' })
export class AuditEvent {
  @Field() eventId!: string;
  @Field() type!: string;
  @Field(() => Int) schemaVersion!: number;
  @Field() log!: string;
  @Field() streamId!: string;
  @Field(() => Int) streamVersion!: number;
  @Field(() => Int) position!: number;
  @Field() occurredAt!: string;
  @Field() actorId!: string;
  @Field() actorRole!: string;
  @Field() correlationId!: string;
  @Field(() => String, { nullable: true }) causationId!: string | null;
  @Field({ description: 'The event data as canonical JSON text.' }) data!: string;
  @Field() prevHash!: string;
  @Field() hash!: string;
}

@ObjectType()
export class LogHead {
  @Field() log!: string;
  @Field(() => Int) position!: number;
}

@ObjectType({ description: 'Result of recomputing a log hash chain.' })
export class ChainVerification {
  @Field() log!: string;
  @Field() ok!: boolean;
  @Field(() => Int, { description: 'Events checked before stopping.' }) checked!: number;
  @Field(() => Int, { nullable: true, description: 'Last position, when the chain is intact.' }) lastPosition?: number;
  @Field(() => Int, { nullable: true, description: 'First position where the chain breaks.' }) brokenAt?: number;
  @Field(() => String, { nullable: true }) reason?: string;
}
